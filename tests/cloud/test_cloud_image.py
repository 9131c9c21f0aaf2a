"""The sealed image on a (fake) Oracle Cloud: a test build of the initramfs whose baked config says
only `platform = oci` and where the metadata server and cloud APIs are (the fakes on the host,
10.0.2.2 from the QEMU guest; plain HTTP since the image's CA bundle is the host's). Nothing else:
the PayPal client id, the domain and the secret's OCID come from the fake instance metadata,
PAYPAL_SECRET from the fake Vault through instance-principal federation inside the guest. From the
host: the cloud section of /status, a whole login with its signed result, the boot notification."""
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)
from tap import case, check, done  # noqa: E402
from service import OUT, ROOT, Service, jws_from_page  # noqa: E402
from qemu import SerialGuest  # noqa: E402
import jws_check  # noqa: E402
import cloudtest as ct  # noqa: E402

WORK = os.path.join(OUT, "cloud-image")
BOOT_TIMEOUT = 180
APPEND = "console=ttyS0 quiet panic=-1 sealed.ip=10.0.2.15/24 sealed.gw=10.0.2.2 sealed.dns=10.0.2.3"


def guest(image_dir, hostfwd_port):
    """qemu-system-x86_64 (TCG) with the test image, started; serial lines collected."""
    argv = ["qemu-system-x86_64", "-accel", "tcg", "-m", "512", "-smp", "1", "-display", "none",
            "-no-reboot", "-serial", "stdio", "-kernel", os.path.join(image_dir, "vmlinuz"),
            "-initrd", os.path.join(image_dir, "initramfs.cpio.gz"), "-append", APPEND,
            "-netdev", f"user,id=n,hostfwd=tcp:127.0.0.1:{hostfwd_port}-:8443",
            "-device", "virtio-net-pci,netdev=n"]
    return SerialGuest(argv, os.path.join(image_dir, "serial.log"), name="cloud-image").start()


class CloudImageService(Service):
    def start_service(self):
        self.cloud = ct.Fake("oci", {"paypal_client_id": self.client_id, "domain": f"localhost:{self.port}",
                                     "secret_ocid": ct.SECRET_ID, "notification_topic_id": ct.TOPIC_ID},
                             {ct.SECRET_ID: self.secret}, [ct.TOPIC_ID], api_plain=True)
        conf = "\n".join([
            "# test build: the cloud is the fake on the host (a different image from the sealed one)",
            "listen = 0.0.0.0", "https_port = 8443", "paypal_env = local",
            f"paypal_authorize_url = http://10.0.2.2:{self.fake_port}/signin/authorize",
            f"paypal_api_base = http://10.0.2.2:{self.fake_port}", "idset_capacity = 100000",
            # the fake names itself by the address it listens on; the guest reaches it at 10.0.2.2
            f"paypal_issuer = http://127.0.0.1:{self.fake_port}",
            "platform = oci", f"metadata_base = http://10.0.2.2:{self.cloud.info['metadata_port']}",
            f"cloud_api_base = http://10.0.2.2:{self.cloud.info['api_port']}", ""])
        shutil.rmtree(WORK, ignore_errors=True)
        os.makedirs(WORK)
        cpath = os.path.join(OUT, "cloud-image.conf")
        with open(cpath, "w") as f:
            f.write(conf)
        p = subprocess.run([os.path.join(ROOT, "scripts", "build-initramfs.sh"), "--config", cpath, "--out", WORK],
                           capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, SOURCE_DATE_EPOCH="1700000000"))
        if p.returncode:
            raise RuntimeError("build-initramfs failed: " + p.stderr[-2000:])
        self.guest = guest(WORK, self.port)
        self.guest.wait_for(r"^sealed-login: serving https://", BOOT_TIMEOUT)

    def __exit__(self, *a):
        self.guest.stop()
        self.cloud.stop()
        self.fake.terminate()
        self.fake.wait(5)
        self.fake_log.close()


for need in ("qemu-system-x86_64", "cpio"):
    if not shutil.which(need):
        print(f"not ok 1 - {need} installed (scripts/packages/image.txt)")
        sys.exit(1)
S = CloudImageService(users=["alice"], name="cloud-image")
S.__enter__()


@case
def the_guest_gets_its_configuration_and_secret_from_the_cloud():
    S.guest.wait_for(r"cloud\.ready platform=oci", 120)
    t = S.guest.text()
    check("cloud.token event=issued" in t and "cloud.secret what=paypal_secret" in t, t[-3000:])
    st = S.status()
    check(st["cloud"]["ready"] and st["cloud"]["platform"] == "oci" and st["login_available"], st["cloud"])
    check(S.secret not in t, "the secret reached the console")


@case
def a_whole_login_inside_the_image_configured_by_metadata():
    r = S.login("alice")   # the redirect_uri carries the metadata's domain, or the fake PayPal refuses
    check(r.status == 200, (r.status, r.text[:500]))
    hdr, payload = jws_check.verify(jws_from_page(r.text))
    check(payload["paypal"]["client_id"] == S.client_id and payload["iss"] == f"https://localhost:{S.port}")
    check(payload["report_data"] == jws_check.report_data(payload, hdr["kid"]))
    msgs = [m for m in S.cloud.state()["messages"] if m["title"] == "sealed-login started"]
    check(len(msgs) == 1, S.cloud.state()["messages"])


try:
    done()
finally:
    S.__exit__(None, None, None)
