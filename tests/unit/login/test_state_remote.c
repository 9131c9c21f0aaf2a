/* Unit tests for login/state_remote that need no network: only well-formed object names
 * (gcs:BUCKET/OBJECT, oci:NAMESPACE/BUCKET/OBJECT, no empty, dot-led or extra segments, no query)
 * make a client. The calls themselves are covered against the fake object stores
 * (tests/login/test_state_sealed*.py). */
#include "test.h"
#include "login/state_remote.h"

TEST(remote_object_names)
{
    const char *good[] = {"gcs:bucket/state.v1", "oci:ns/bucket-1/state_v1", NULL};
    const char *bad[] = {"gcs:bucket", "gcs:/o", "gcs:b/../x", "gcs:b/a/b", "oci:ns/b", "s3:b/o", "gcs:b/o?x=1",
                         "gcs:b/.hidden", "oci:ns/b/o/", NULL};
    for (int i = 0; good[i]; i++) {
        struct state_remote *r = state_remote_new(NULL, good[i], NULL);
        CHECK(r != NULL);
        state_remote_free(r);
    }
    for (int i = 0; bad[i]; i++) {
        struct state_remote *r = state_remote_new(NULL, bad[i], NULL);
        CHECK(r == NULL);
        state_remote_free(r);
    }
}

int main(void)
{
    RUN(remote_object_names);
    return test_done();
}
