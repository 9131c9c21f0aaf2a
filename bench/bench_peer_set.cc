// bench_peer_set: the naive peer for bench_idset: std::unordered_set<std::string> of raw ids,
// same ids, same counts, one core. Reports the same JSON fields.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_set>

static long rss_kb() {
    FILE *f = std::fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && std::fgets(line, sizeof line, f))
        if (!std::strncmp(line, "VmRSS:", 6)) kb = std::strtol(line + 6, nullptr, 10);
    if (f) std::fclose(f);
    return kb;
}

static std::string make_id(unsigned long long i) {
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string s = "https://www.paypal.com/webapps/auth/identity/user/";
    unsigned long long x = i * 0x9E3779B97F4A7C15ull + 12345;
    for (int k = 0; k < 43; k++) {
        x ^= x >> 29; x *= 0xBF58476D1CE4E5B9ull; x ^= x >> 32;
        s.push_back(A[x & 63]);
    }
    return s;
}

int main(int argc, char **argv) {
    unsigned long long n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10000000ull;
    long rss0 = rss_kb();
    std::unordered_set<std::string> set;
    set.reserve(n);
    auto t = std::chrono::steady_clock::now();
    for (unsigned long long i = 0; i < n; i++) set.insert(make_id(i));
    double ins = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    long rss = rss_kb() - rss0;
    t = std::chrono::steady_clock::now();
    unsigned long long present = 0;
    for (unsigned long long i = 0; i < n; i++) present += !set.insert(make_id(i)).second;
    double rep = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    std::printf("{\"impl\":\"std::unordered_set<std::string> (raw ids)\",\"ids\":%llu,\"rss_mb\":%.1f,"
                "\"insert_per_s\":%.0f,\"replay_lookup_per_s\":%.0f,\"present\":%llu}\n",
                n, rss / 1024.0, n / ins, n / rep, present);
}
