"""sealed-verify eventlog, whole binary: the real UEFI event logs in ../shared/testdata replay to
the PCR values their sources list (TCG2 crypto-agile and legacy SHA-1), a changed digest or a cut
log is reported, and --json carries the PCR values."""
import json
import os
import tempfile
from verifylib import TD, run, run_json, status, failed_ids
from tap import case, check, done

EL = os.path.join(TD, "tpm-eventlogs-go-eventlog")
EXPECTED = json.load(open(os.path.join(EL, "expected_pcrs.json")))
ENTRIES = {k: v for k, v in EXPECTED.items() if isinstance(v, dict) and "log_file" in v and v.get("expected_pcrs")
           and os.path.exists(os.path.join(EL, v["log_file"]))}


@case
def there_are_logs_to_replay():
    check(len(ENTRIES) >= 3, sorted(ENTRIES))


@case
def every_log_replays_to_its_listed_pcrs():
    tmp = tempfile.mkdtemp()
    for name, e in ENTRIES.items():
        want = os.path.join(tmp, name + ".json")
        json.dump(e["expected_pcrs"], open(want, "w"))
        rc, out, st = run_json("eventlog", os.path.join(EL, e["log_file"]), "--pcrs", want)
        check(rc == 0, f"{name}: {failed_ids(out)}")
        n = sum(len(v) for v in e["expected_pcrs"].values())
        check(st["eventlog.pcr"].count("pass") == n, f"{name}: {len(st['eventlog.pcr'])} of {n}")
        for bank, pcrs in e["expected_pcrs"].items():
            for i, v in pcrs.items():
                check(out["fields"]["pcrs"][bank][i] == v, f"{name} {bank} {i}")


@case
def legacy_sha1_log_has_no_sha256_bank():
    e = EXPECTED["Debian10GCE"]
    rc, out, st = run_json("eventlog", os.path.join(EL, e["log_file"]))
    check(rc == 0 and list(out["fields"]["pcrs"]) == ["sha1"])
    check("legacy TCG 1.2 SHA-1" in out["steps"][0]["text"])
    rc, out, st = run_json("eventlog", os.path.join(EL, e["log_file"]), "--bank", "sha256")
    check(rc == 0 and out["fields"]["pcrs"] == {})


@case
def changed_and_cut_logs_are_reported():
    e = ENTRIES["Rhel8GCE"]
    buf = bytearray(open(os.path.join(EL, e["log_file"]), "rb").read())
    tmp = tempfile.mkdtemp()
    want = os.path.join(tmp, "want.json")
    json.dump(e["expected_pcrs"], open(want, "w"))
    # change one byte of the EFI application's SHA-256 digest (a PCR 4 event): PCR 4 must differ
    app = bytes.fromhex(e["expected_efi_app_digests"]["sha256"][0])
    at = bytes(buf).find(app)
    check(at > 0)
    changed = bytearray(buf)
    changed[at + 5] ^= 0x01
    p = os.path.join(tmp, "changed.bin")
    open(p, "wb").write(changed)
    rc, out, st = run_json("eventlog", p, "--pcrs", want)
    check(rc == 1 and any("PCR 4 " in x["text"] for x in out["steps"] if x["status"] == "fail"), failed_ids(out))
    cut = os.path.join(tmp, "cut.bin")
    open(cut, "wb").write(buf[:len(buf) - 7])
    rc, out, st = run_json("eventlog", cut)
    check(rc == 1 and status(st, "eventlog.parse") == "fail")
    rc, text = run("eventlog", os.path.join(EL, e["log_file"]), "--bank", "sha256")
    check(rc == 0 and "PCR  4: 758a3d35f1b0ff5b135dacd07db0c8132c0ac665d944090d4bf96e66447a245c" in text, text[-500:])
    rc, text = run("eventlog", os.path.join(EL, e["log_file"]), "--bank", "md5")
    check(rc == 2)


done()
