"""deploy/oci/sealed-deploy-oci as an operator uses it, against the faithful control-plane fake
(tests/fakes/fake_oci_control.py): a fresh compartment deployed and every resource's wiring checked,
a rerun that creates nothing, plan mode that changes nothing, failures mid-way (500, 409, a lost
answer) that give a clear error and a rerun that completes, updates (secret, metadata, image), the
egress guard acting, teardown leaving nothing, the PayPal secret never in any output or argv, and the
metadata the script sets read by the service's own cloud code (tests/cloud fakes + cloud_driver)."""
import base64
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "lib"))
from tap import case, check, done  # noqa: E402
import deploytest as dt  # noqa: E402

E = dt.Env("main")
FIRST = {}


def creates(state, start=0):
    return [e for e in state["log"][start:] if e[0] in ("POST", "PUT", "DELETE") and e[2] < 300]


@case
def plan_on_a_fresh_compartment_changes_nothing():
    rc, out, err = E.run("plan")
    check(rc == 0 and "create   VCN" in out and "create   network load balancer" in out, out + err)
    m = re.search(r"(\d+) change\(s\) planned", out)
    check(m and int(m.group(1)) >= 20, out)
    st = E.state()
    check(st["log"] and all(e[0] in ("GET", "HEAD") for e in st["log"]) and st["resources"] == [], st["log"][-3:])
    # without TLS trust in the fake's CA, nothing is sent in the clear or to an unknown server
    rc, out, err = E.run("plan", ca_file=None)
    check(rc == 1 and "no answer" in err, err)


@case
def deploy_fresh_compartment_and_print_outputs():
    rc, out, err = E.run("deploy")
    check(rc == 0, out + err)
    st = E.state()
    ip = dt.one(st, "publicip")
    FIRST.update(out=out, state=st, log_len=len(st["log"]))
    check(f"login.example.com.  300  IN  A  {ip['ipAddress']}" in out, out)
    check(f"public IP:    {ip['ipAddress']}" in out, out)
    check("build/sealed-verify result sealed-login-result.jws --client-id AZdeployTestClientId" in out, out)
    check("https://login.example.com/callback" in out, out)
    # every request carried a valid signature of the registered key (the fake refuses others)
    check(all(e[2] != 401 for e in st["log"]), [e for e in st["log"] if e[2] == 401])
    check(any(e[4] == "date (request-target) host content-length content-type x-content-sha256" for e in st["log"]))


@case
def network_wiring():
    st = FIRST["state"]
    vcn = dt.one(st, "vcn")
    check(vcn["cidrBlocks"] == ["10.0.0.0/16"] and vcn["freeformTags"] == {"sealed-login-deployment": "sealed-login"})
    subnets = {s["displayName"]: s for s in dt.by_kind(st, "subnet")}
    check(set(subnets) == {"sealed-login-public", "sealed-login-private"}, subnets.keys())
    pub, priv = subnets["sealed-login-public"], subnets["sealed-login-private"]
    check(pub["cidrBlock"] == "10.0.0.0/24" and priv["cidrBlock"] == "10.0.1.0/24")
    check(priv["prohibitPublicIpOnVnic"] and not pub["prohibitPublicIpOnVnic"])
    rts = {r["id"]: r for r in dt.by_kind(st, "routetable")}
    igw, nat, sgw = dt.one(st, "internetgateway"), dt.one(st, "natgateway"), dt.one(st, "servicegateway")
    check([r["networkEntityId"] for r in rts[pub["routeTableId"]]["routeRules"]] == [igw["id"]])
    check(sorted(r["networkEntityId"] for r in rts[priv["routeTableId"]]["routeRules"]) == sorted([nat["id"], sgw["id"]]))
    sls = {s["id"]: s for s in dt.by_kind(st, "securitylist")}
    for sn in (pub, priv):
        (sl,) = [sls[x] for x in sn["securityListIds"]]
        ports = sorted(r["tcpOptions"]["destinationPortRange"]["min"] for r in sl["ingressSecurityRules"])
        check(ports == [80, 443] and all(r["protocol"] == "6" and r["tcpOptions"]["destinationPortRange"]["max"] ==
                                         r["tcpOptions"]["destinationPortRange"]["min"] for r in sl["ingressSecurityRules"]),
              sl["ingressSecurityRules"])
    # the VM's 80/443 are open to the load balancer's subnet only (the NLB does not preserve the source;
    # the client address comes in PROXY v2): nobody reaches the VM around the load balancer
    priv_sl = sls[priv["securityListIds"][0]]
    check({r["source"] for r in priv_sl["ingressSecurityRules"]} == {"10.0.0.0/24"}, priv_sl["ingressSecurityRules"])
    internet = [r for r in priv_sl["egressSecurityRules"] if r["destination"] == "0.0.0.0/0"]
    check(len(internet) == 1 and internet[0]["tcpOptions"]["destinationPortRange"] == {"min": 443, "max": 443}, internet)
    check(all(r["protocol"] != "all" for r in priv_sl["egressSecurityRules"]))


@case
def instance_image_and_metadata():
    st = FIRST["state"]
    inst = dt.one(st, "instance")
    check(inst["lifecycleState"] == "RUNNING" and inst["shape"] == "VM.Standard.E2.1.Micro")
    check(inst["platformConfig"] is None and inst["launchOptions"]["firmware"] == "UEFI_64")
    check(inst["instanceOptions"] == {"areLegacyImdsEndpointsDisabled": True} and inst["agentConfig"]["areAllPluginsDisabled"])
    vnic = dt.one(st, "vnic")
    check(vnic["privateIp"] == "10.0.1.50" and vnic["publicIp"] is None, vnic)
    subnet = [s for s in dt.by_kind(st, "subnet") if s["id"] == vnic["subnetId"]][0]
    check(subnet["displayName"] == "sealed-login-private")
    secret, topic = dt.one(st, "vaultsecret"), dt.one(st, "onstopic")
    check(inst["metadata"] == {"paypal_client_id": "AZdeployTestClientId", "domain": "login.example.com",
                               "secret_ocid": secret["id"], "notification_topic_id": topic["topicId"]}, inst["metadata"])
    # no drift: every key the script sets is one the service applies (src/login/config.c T_METADATA)
    src = open(os.path.join(dt.ROOT, "src", "login", "config.c")).read()
    service_keys = set(re.findall(r'\{"([a-z_]+)",\s*"[A-Z_]+",\s*K_\w+,\s*T_METADATA', src))
    check({"paypal_client_id", "domain", "secret_ocid", "notification_topic_id"} <= service_keys, service_keys)
    check(set(inst["metadata"]) <= service_keys, set(inst["metadata"]) - service_keys)
    img = dt.one(st, "image")
    check(inst["imageId"] == img["id"] and img["launchMode"] == "PARAVIRTUALIZED")
    schema = dt.one(st, "computeimgcapschema")
    check(schema["imageId"] == img["id"] and schema["schemaData"]["Compute.Firmware"]["defaultValue"] == "UEFI_64")
    sha = open(E.image, "rb").read()
    import hashlib
    objs = st["objects"]
    check(len(objs) == 1 and list(objs.values())[0]["sha256"] == hashlib.sha256(sha).hexdigest(), objs)
    check(list(objs.values())[0]["meta"].get("opc-meta-sha256") == hashlib.sha256(sha).hexdigest())


@case
def iam_least_privilege_for_instance_principal():
    st = FIRST["state"]
    inst, secret = dt.one(st, "instance"), dt.one(st, "vaultsecret")
    dg = dt.one(st, "dynamicgroup")
    check(dg["compartmentId"] == dt.TENANCY and dg["matchingRule"] == f"Any {{instance.id = '{inst['id']}'}}", dg)
    pol = dt.one(st, "policy")
    check(pol["compartmentId"] == dt.COMPARTMENT)
    check(pol["statements"] == [
        f"Allow dynamic-group {dg['name']} to read secret-bundles in compartment id {dt.COMPARTMENT} "
        f"where any {{target.secret.id = '{secret['id']}'}}",
        f"Allow dynamic-group {dg['name']} to use ons-topics in compartment id {dt.COMPARTMENT} "
        f"where request.permission = 'ONS_TOPIC_PUBLISH'",
        f"Allow dynamic-group {dg['name']} to read metrics in compartment id {dt.COMPARTMENT} "
        f"where target.metrics.namespace = 'oci_vcn'",
        f"Allow dynamic-group {dg['name']} to use instances in compartment id {dt.COMPARTMENT} where all "
        f"{{request.permission = 'INSTANCE_POWER_ACTIONS', target.instance.id = '{inst['id']}'}}"], pol["statements"])
    check(not any("manage" in s or "secret-family" in s for s in pol["statements"]))


@case
def guard_group_gets_only_what_the_guard_does():
    rc, out, err = E.run("deploy", guard_group="sealed-guards")
    check(rc == 0 and "created  policy                 sealed-login-guard-policy" in out, out + err)
    pols = {p["name"]: p for p in dt.by_kind(E.state(), "policy")}
    st = pols["sealed-login-guard-policy"]["statements"]
    c = f"in compartment id {dt.COMPARTMENT}"
    check(st == [f"Allow group sealed-guards to read metrics {c}", f"Allow group sealed-guards to read instances {c}",
                 f"Allow group sealed-guards to use instances {c} where request.permission = 'INSTANCE_POWER_ACTIONS'",
                 f"Allow group sealed-guards to inspect ons-topics {c}",
                 f"Allow group sealed-guards to use ons-topics {c} where request.permission = 'ONS_TOPIC_PUBLISH'"], st)
    check(len(pols) == 2)


@case
def load_balancer_reserved_ip_and_backends():
    st = FIRST["state"]
    nlb, ip, inst = dt.one(st, "networkloadbalancer"), dt.one(st, "publicip"), dt.one(st, "instance")
    vnic = dt.one(st, "vnic")
    pub = [s for s in dt.by_kind(st, "subnet") if s["displayName"] == "sealed-login-public"][0]
    check(nlb["subnetId"] == pub["id"] and nlb["isPrivate"] is False and nlb["isPreserveSourceDestination"] is False)
    check(nlb["ipAddresses"] == [{"ipAddress": ip["ipAddress"], "isPublic": True, "ipVersion": "IPV4",
                                  "reservedIp": {"id": ip["id"]}}], nlb["ipAddresses"])
    check(ip["lifecycleState"] == "ASSIGNED" and ip["assignedEntityId"] == nlb["id"] and ip["lifetime"] == "RESERVED")
    check({(l["port"], l["protocol"], l["defaultBackendSetName"], l["isPpv2Enabled"]) for l in nlb["listeners"].values()}
          == {(80, "TCP", "http", True), (443, "TCP", "https", True)}, nlb["listeners"])
    for name, port in (("http", 80), ("https", 443)):
        bs = nlb["backendSets"][name]
        check(bs["isPreserveSource"] is False and bs["healthChecker"]["protocol"] == "TCP" and
              bs["healthChecker"]["port"] == port)
        check(bs["backends"] == [{"ipAddress": vnic["privateIp"], "targetId": inst["id"], "port": port, "weight": 1}],
              bs["backends"])


@case
def notifications_and_egress_alarm():
    st = FIRST["state"]
    topic, sub, alarm = dt.one(st, "onstopic"), dt.one(st, "onssubscription"), dt.one(st, "alarm")
    check(sub["topicId"] == topic["topicId"] and sub["protocol"] == "EMAIL" and sub["endpoint"] == "ops@example.com")
    check(alarm["destinations"] == [topic["topicId"]] and alarm["namespace"] == "oci_vcn" and alarm["isEnabled"])
    m = re.fullmatch(r"VnicToNetworkBytes\[1h\]\.grouping\(\)\.sum\(\) > (\d+)", alarm["query"])
    check(m and int(m.group(1)) == int(9.5e12 / 720), alarm["query"])


@case
def rerun_creates_nothing_and_plan_is_empty():
    n0 = len(E.state()["log"])
    rc, out, err = E.run("deploy")
    check(rc == 0, err)
    st = E.state()
    check(creates(st, n0) == [], creates(st, n0))
    check("created" not in out and "uploaded" not in out, out)
    rc, out, err = E.run("plan")
    check(rc == 0 and "0 change(s) planned" in out, out + err)
    outputs = os.path.join(E.dir, "outputs.json")
    rc, out, err = E.run("deploy", "--outputs", outputs)
    o = json.load(open(outputs))
    st = E.state()
    check(o["public_ip"] == dt.one(st, "publicip")["ipAddress"] and o["dns_record"]["name"] == "login.example.com", o)
    check(o["ids"]["instance"] == dt.one(st, "instance")["id"] and o["ids"]["nlb"] == dt.one(st, "networkloadbalancer")["id"])
    check(o["verify"].startswith("build/sealed-verify result") and dt.PAYPAL_SECRET not in open(outputs).read())
    check(all(e[0] in ("GET", "HEAD") for e in E.state()["log"][len(st["log"]):]))


@case
def secret_never_in_output_argv_or_plan():
    # stdin as the source too
    rc, out, err = E.run("deploy", stdin=(dt.PAYPAL_SECRET + "\n").encode(), paypal_secret_file="-")
    check(rc == 0, err)
    check(E.state()["secret_contents"][dt.one(E.state(), "vaultsecret")["id"]] ==
          base64.b64encode(dt.PAYPAL_SECRET.encode()).decode(), "stored secret differs")
    b64 = base64.b64encode(dt.PAYPAL_SECRET.encode()).decode()
    for text in E.outputs:
        check(dt.PAYPAL_SECRET not in text and b64 not in text and dt.PAYPAL_SECRET[:12] not in text)
    argvs = E.argvs()
    check(len(argvs) > 50)
    for a in argvs:
        joined = "\0".join(a)
        check(dt.PAYPAL_SECRET not in joined and b64 not in joined and "secret_file" not in joined, a)
    # the settings file names the secret file, never the secret
    check(dt.PAYPAL_SECRET not in open(E.settings()).read())


@case
def secret_rotation_makes_a_new_version():
    new = os.path.join(E.dir, "secret2")
    with open(new, "w") as f:
        f.write("EJx-Rotated-Secret-987\n")
    os.chmod(new, 0o600)
    rc, out, err = E.run("deploy", paypal_secret_file=new)
    check(rc == 0 and "updated  secret" in out, out + err)
    st = E.state()
    s = dt.one(st, "vaultsecret")
    check(s["currentVersionNumber"] == 2 and st["secret_contents"][s["id"]] == base64.b64encode(b"EJx-Rotated-Secret-987").decode())
    rc, out, err = E.run("deploy")      # back to the first one
    check(rc == 0 and dt.one(E.state(), "vaultsecret")["currentVersionNumber"] == 3)
    check("EJx-Rotated-Secret-987" not in out + err)


@case
def metadata_change_updates_the_instance_in_place():
    before = dt.one(E.state(), "instance")
    rc, out, err = E.run("deploy", paypal_client_id="AZotherClient", domain="login2.example.com")
    check(rc == 0 and "updated  instance" in out, out + err)
    after = dt.one(E.state(), "instance")
    check(after["id"] == before["id"] and after["metadata"]["paypal_client_id"] == "AZotherClient"
          and after["metadata"]["domain"] == "login2.example.com")
    rc, out, err = E.run("deploy")
    check(rc == 0 and dt.one(E.state(), "instance")["metadata"]["paypal_client_id"] == "AZdeployTestClientId")


@case
def new_image_replaces_the_vm_at_the_same_address():
    old_inst = dt.one(E.state(), "instance")
    big = E.make_image("disk2.qcow2", 25 * 1024 * 1024 + 5, b"B")      # > one part: multipart upload
    n0 = len(E.state()["log"])
    rc, out, err = E.run("plan", image=big)
    check(rc == 0 and re.search(r"replace +instance +sealed-login-vm +image sealed-login-\w+ -> sealed-login-\w+"
                                r"  \(needs --replace-instance\)", out), out + err)
    rc, out, err = E.run("deploy", image=big)      # not asked to replace: stops before any change
    check(rc == 1 and "rerun with --replace-instance" in err and "Nothing was changed" in err, out + err)
    check(creates(E.state(), n0) == [], creates(E.state(), n0))
    rc, out, err = E.run("deploy", "--replace-instance", image=big)
    check(rc == 0 and "replace  instance" in out and "in 3 parts" in out, out + err)
    st = E.state()
    inst, vnic, nlb, dg = dt.one(st, "instance"), dt.one(st, "vnic"), dt.one(st, "networkloadbalancer"), dt.one(st, "dynamicgroup")
    check(inst["id"] != old_inst["id"] and vnic["privateIp"] == "10.0.1.50")
    check(len(dt.by_kind(st, "image")) == 2 and st["uploads"] == [])
    import hashlib
    check(any(o["sha256"] == hashlib.sha256(open(big, "rb").read()).hexdigest() for o in st["objects"].values()))
    check(all(bs["backends"][0]["targetId"] == inst["id"] for bs in nlb["backendSets"].values()))
    check(inst["id"] in dg["matchingRule"])
    check(len(dt.by_kind(st, "networkloadbalancer")) == 1 and len(dt.by_kind(st, "publicip")) == 1)
    E.image_big = big


@case
def server_error_mid_way_gives_clear_error_then_rerun_completes():
    env = dt.Env("fail")
    try:
        # more 500s than the retries: deploy stops at the NLB with OCI's code, request id and a hint
        env.control("fault", method="POST", path_re=r"^/20200501/networkLoadBalancers$", status=500,
                    code="InternalServerError", message="Internal Server Error", count=3)
        rc, out, err = env.run("deploy")
        check(rc == 1, out + err)
        check("create network load balancer sealed-login-nlb: POST" in err and "HTTP 500 InternalServerError" in err, err)
        check("opc-request-id:" in err and "what to do: OCI failed: rerun" in err, err)
        check("Traceback" not in err)
        check(dt.by_kind(env.state(), "networkloadbalancer") == [])
        # runs again: everything before is found; a 409 is not retried and says so
        env.control("fault", method="POST", path_re=r"^/20200501/networkLoadBalancers$", status=409, code="Conflict",
                    message="The subnet is being updated", count=1)
        rc, out, err = env.run("deploy")
        check(rc == 1 and "HTTP 409 Conflict: The subnet is being updated" in err and "what to do:" in err, err)
        check("created" not in out, out)
        # a create whose answer is lost (done, then 502): the retry carries the same opc-retry-token
        env.control("fault", method="POST", path_re=r"^/20200501/networkLoadBalancers$", status=502, code="BadGateway",
                    count=1, after=True)
        rc, out, err = env.run("deploy")
        check(rc == 0, out + err)
        st = env.state()
        for kind in ("vcn", "subnet", "instance", "networkloadbalancer", "publicip", "vaultsecret", "alarm"):
            n = len(dt.by_kind(st, kind))
            check(n == (2 if kind == "subnet" else 1), f"{n} {kind}")
        check(sum(1 for e in st["log"] if e[:2] == ["POST", "/20200501/networkLoadBalancers"]) == 6, "NLB POSTs")
        # teardown failing mid-way (the subnet delete keeps failing): clear error, a rerun finishes
        env.control("fault", method="DELETE", path_re=r"^/20160918/subnets/", status=503, code="ServiceUnavailable",
                    message="Service Unavailable", count=3)
        rc, out, err = env.run("teardown")
        check(rc == 1 and "delete subnet" in err and "HTTP 503 ServiceUnavailable" in err, err)
        check(dt.by_kind(env.state(), "instance") == [] and len(dt.by_kind(env.state(), "vcn")) == 1)
        rc, out, err = env.run("teardown")
        check(rc == 0 and dt.by_kind(env.state(), "vcn") == [] and dt.by_kind(env.state(), "subnet") == [], out + err)
        # two runs at once: the second one waits for nothing and says why
        import fcntl
        import hashlib
        key = hashlib.sha256(f"{env.url}|us-phoenix-1|{dt.COMPARTMENT}|sealed-login".encode()).hexdigest()[:16]
        with open(os.path.join(env.dir, f"sealed-deploy-oci-{key}.lock"), "w") as lk:
            fcntl.flock(lk, fcntl.LOCK_EX)
            rc, out, err = env.run("deploy")
            check(rc == 1 and "another sealed-deploy-oci run holds" in err, err)
    finally:
        env.stop()


@case
def bad_settings_fail_with_clear_messages():
    env = dt.Env("bad")
    try:
        # no secret given for a new deployment: the message says how to give it
        rc, out, err = env.run("deploy", paypal_secret_file=None)
        check(rc == 1 and "give --paypal-secret-file FILE" in err and "created" not in out, out + err)
        # a private IP outside the VM's subnet: OCI's 400 InvalidParameter, named
        rc, out, err = env.run("deploy", private_ip="10.0.2.50")
        check(rc == 1 and "HTTP 400 InvalidParameter: The private IP 10.0.2.50 is not in the subnet's CIDR 10.0.1.0/24" in err, err)
        # an image built for one address (sealed.ip=): a manifest that disagrees stops before any call, and
        # says that the release's ip=dhcp image needs no such build
        man = os.path.join(env.dir, "build-manifest.json")
        with open(man, "w") as f:
            json.dump({"cmdline": "console=ttyS0 sealed.ip=10.0.2.15/24 sealed.gw=10.0.2.2"}, f)
        n0 = len(env.state()["log"])
        rc, out, err = env.run("deploy")
        check(rc == 1 and "sealed.ip=10.0.2.15/24" in err and "IMAGE_APPEND" in err, err)
        check("an image with ip=dhcp (plain make image, the release's image)" in err and "Traceback" not in err, err)
        check(len(env.state()["log"]) == n0)
        # ... or whose gateway is outside the VM subnet
        with open(man, "w") as f:
            json.dump({"cmdline": "console=ttyS0 sealed.ip=10.0.1.50/24 sealed.gw=10.0.2.1"}, f)
        rc, out, err = env.run("deploy")
        check(rc == 1 and "sealed.gw=10.0.2.1 is not in 10.0.1.0/24" in err and len(env.state()["log"]) == n0, err)
        # a command line that configures no network (neither ip=dhcp nor sealed.ip=, ip=off, a malformed
        # sealed.ip): the VM would boot unreachable, so nothing is sent
        for cmdline, why in (("console=ttyS0 quiet panic=-1", "neither ip=dhcp nor sealed.ip="),
                             ("console=ttyS0 ip=off", "ip=off is not ip=dhcp"),
                             ("console=ttyS0 ip=dhcp sealed.ip=10.0.1.50", "sealed.ip=10.0.1.50 is not ADDRESS/PREFIX")):
            with open(man, "w") as f:
                json.dump({"cmdline": cmdline}, f)
            for cmd in ("plan", "deploy"):
                rc, out, err = env.run(cmd)
                check(rc == 1 and "configures no network" in err and why in err and "would boot unreachable" in err
                      and "ip=dhcp" in err and "Traceback" not in err, err)
        check(len(env.state()["log"]) == n0)
        # a manifest of another disk
        import hashlib
        with open(man, "w") as f:
            json.dump({"cmdline": "console=ttyS0 sealed.ip=10.0.1.50/24 sealed.gw=10.0.1.1 sealed.dns=169.254.169.254",
                       "artifacts": {"disk.qcow2": {"sha256": "00" * 32}}}, f)
        rc, out, err = env.run("deploy")
        check(rc == 1 and "is not the image" in err and len(env.state()["log"]) == n0, err)
        # the right one is accepted and named in the verify line
        with open(man, "w") as f:
            json.dump({"cmdline": "console=ttyS0 sealed.ip=10.0.1.50/24 sealed.gw=10.0.1.1 sealed.dns=169.254.169.254",
                       "artifacts": {"disk.qcow2": {"sha256": hashlib.sha256(open(env.image, "rb").read()).hexdigest()}}}, f)
        rc, out, err = env.run("plan")
        check(rc == 0 and f"--manifest {man}" in out and "warning" not in err, out + err)
        check("VM address:   10.0.1.50, fixed in the image's command line (sealed.ip=10.0.1.50/24)" in out and
              "a build for this deployment, not the release's image" in out and "ip=dhcp" in err, out + err)
        os.unlink(man)
        # no mode: refused with what each one means; an impossible mode for the shape (ListShapes says so) is
        # refused before anything is created
        n0 = len(env.state()["log"])
        rc, out, err = env.run("plan", mode=None)
        check(rc == 1 and "mode is required" in err and len(env.state()["log"]) == n0, err)
        for mode, need in (("confidential", "AMD SEV memory encryption"), ("shielded", "measured boot and a vTPM")):
            for cmd in ("deploy", "plan"):
                rc, out, err = env.run(cmd, mode=mode)
                check(rc == 1 and f"mode={mode} needs {need}, which shape VM.Standard.E2.1.Micro does not offer" in err
                      and "nothing was created" in err and "--shape VM.Standard.E4.Flex" in err, err)
        st = env.state()
        check(creates(st, n0) == [], creates(st, n0))
        check(any(e[1] == "/20160918/shapes" for e in st["log"][n0:]))
        # a key the tenancy does not know: 401 with what to check
        other = os.path.join(env.dir, "other.pem")
        dt.fc.openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", other)
        cfg = open(env.config).read()
        with open(env.config, "w") as f:
            f.write(cfg.replace(env.key, other))
        rc, out, err = env.run("plan")
        check(rc == 1 and "HTTP 401 NotAuthenticated" in err and "fingerprint" in err, err)
        with open(env.config, "w") as f:
            f.write(cfg)
    finally:
        env.stop()


@case
def the_release_image_with_dhcp_deploys_at_any_private_ip():
    """The normal case (one image per release): the manifest's command line has ip=dhcp and no sealed.ip=,
    so any private_ip is accepted without a build; the VNIC gets it as its static private IP (what the
    VCN's DHCP then hands to the VM), and plan and deploy say so."""
    import hashlib
    env = dt.Env("dhcp")
    try:
        man = os.path.join(env.dir, "build-manifest.json")
        with open(man, "w") as f:
            json.dump({"cmdline": "console=ttyS0 quiet panic=-1 ip=dhcp",
                       "artifacts": {"disk.qcow2": {"sha256": hashlib.sha256(open(env.image, "rb").read()).hexdigest()}}}, f)
        line = ("the VNIC's fixed private IP; the image is the release's image with ip=dhcp: the VCN's DHCP gives the "
                "VM the address this deployment reserved")
        for ip in ("10.0.1.50", "10.0.1.77"):
            rc, out, err = env.run("plan", private_ip=ip)
            check(rc == 0 and "warning" not in err and f"--manifest {man}" in out and f"VM address:   {ip}, {line}" in out,
                  out + err)
        rc, out, err = env.run("deploy", private_ip="10.0.1.77")
        check(rc == 0 and f"VM address:   10.0.1.77, {line}" in out and "IMAGE_APPEND" not in out + err, out + err)
        st = env.state()
        vnic, inst = dt.one(st, "vnic"), dt.one(st, "instance")
        check(vnic["privateIp"] == "10.0.1.77", vnic)
        for bs in dt.one(st, "networkloadbalancer")["backendSets"].values():
            check([b["ipAddress"] for b in bs["backends"]] == ["10.0.1.77"] and bs["backends"][0]["targetId"] == inst["id"], bs)
        rc, out, err = env.run("teardown")
        check(rc == 0, out + err)
    finally:
        env.stop()


@case
def confidential_and_shielded_launch_bodies():
    env = dt.Env("modes")
    try:
        rc, out, err = env.run("deploy", mode="confidential", shape="VM.Standard.E4.Flex", ocpus="1", memory_gbs="4")
        check(rc == 0, out + err)
        st = env.state()
        inst = dt.one(st, "instance")
        check(inst["platformConfig"] == {"type": "AMD_VM", "isMemoryEncryptionEnabled": True}, inst["platformConfig"])
        check(inst["shapeConfig"] == {"ocpus": 1.0, "memoryInGBs": 4.0})
        check(dt.one(st, "computeimgcapschema")["schemaData"]["Compute.AMD_SecureEncryptedVirtualization"]["defaultValue"])
        check("--allow-unattested" in out and "SEV gives no guest report" in out)
        rc, out, err = env.run("teardown")
        check(rc == 0, err)
        rc, out, err = env.run("deploy", mode="shielded", shape="VM.Standard.E4.Flex", ocpus="1", memory_gbs="4")
        check(rc == 0, out + err)
        inst = dt.one(env.state(), "instance")
        check(inst["platformConfig"]["isMeasuredBootEnabled"] and inst["platformConfig"]["isTrustedPlatformModuleEnabled"])
        check("tpm2 quote" in out and "--allow-unattested" not in out)
        rc, out, err = env.run("teardown")
        check(rc == 0, err)
        # the operator's own vault and key (not ours): used, never deleted; our secret in it is
        full = ("date", "(request-target)", "host", "content-length", "content-type", "x-content-sha256")
        st_, v, _ = env.signed("POST", "/20180608/vaults", json.dumps(
            {"compartmentId": dt.COMPARTMENT, "displayName": "team-vault", "vaultType": "DEFAULT"}).encode(), headers=full)
        check(st_ == 200, v)
        import time
        time.sleep(0.3)
        st_, k, _ = env.signed("POST", "/20180608/keys", json.dumps(
            {"compartmentId": dt.COMPARTMENT, "displayName": "team-key",
             "keyShape": {"algorithm": "AES", "length": 32}}).encode(), headers=full)
        check(st_ == 200, k)
        time.sleep(0.3)
        rc, out, err = env.run("deploy", vault_id=v["id"], key_id=k["id"])
        check(rc == 0 and "use      vault" in out, out + err)
        (sec,) = [x for x in dt.by_kind(env.state(), "vaultsecret") if x["vaultId"] == v["id"]]
        check(sec["vaultId"] == v["id"] and sec["keyId"] == k["id"])
        rc, out, err = env.run("teardown", vault_id=v["id"], key_id=k["id"])
        check(rc == 0, err)
        st = env.state()
        byid = {r.get("id"): r for r in st["resources"]}
        check(byid[sec["id"]]["lifecycleState"] == "PENDING_DELETION")
        check(byid[v["id"]]["lifecycleState"] == "ACTIVE" and byid[k["id"]]["lifecycleState"] == "ENABLED")
    finally:
        env.stop()


@case
def switching_mode_plans_and_performs_a_replacement():
    """standard -> confidential -> shielded: plan names the replacement and why, deploy refuses it unless asked
    (before any change), then replaces; the summary reads the VM back instead of echoing the settings."""
    env = dt.Env("switch")
    try:
        rc, out, err = env.run("deploy")
        check(rc == 0 and "mode standard (platformConfig null)" in out, out + err)
        first = dt.one(env.state(), "instance")
        conf = dict(mode="confidential", shape="VM.Standard.E4.Flex", ocpus="1", memory_gbs="4")
        n0 = len(env.state()["log"])
        rc, out, err = env.run("plan", **conf)
        check(rc == 0 and re.search(r"replace +instance +sealed-login-vm +shape VM.Standard.E2.1.Micro -> "
                                    r"VM.Standard.E4.Flex; mode standard -> confidential .*; image sealed-login-\w{12} -> "
                                    r"sealed-login-\w{12}-sev  \(needs --replace-instance\)", out), out + err)
        check("* confidential  trust statement 'none'" in out and "~$24.75/month" in out and "Prices as of 2026-12-07" in out,
              out)
        m = re.search(r"(\d+) change\(s\) planned", out)
        check(m and int(m.group(1)) >= 3, out)
        rc, out, err = env.run("deploy", **conf)
        check(rc == 1 and "shape VM.Standard.E2.1.Micro -> VM.Standard.E4.Flex" in err and "Nothing was changed" in err, err)
        check(creates(env.state(), n0) == [], creates(env.state(), n0))
        rc, out, err = env.run("deploy", "--replace-instance", **conf)
        check(rc == 0 and "replace  instance" in out, out + err)
        st = env.state()
        inst = dt.one(st, "instance")
        check(inst["id"] != first["id"] and inst["shape"] == "VM.Standard.E4.Flex"
              and inst["platformConfig"] == {"type": "AMD_VM", "isMemoryEncryptionEnabled": True}, inst)
        img = [i for i in dt.by_kind(st, "image") if i["id"] == inst["imageId"]][0]
        check(img["displayName"].endswith("-sev"))
        sch = [x for x in dt.by_kind(st, "computeimgcapschema") if x["imageId"] == img["id"]][0]
        check(sch["schemaData"]["Compute.AMD_SecureEncryptedVirtualization"]["defaultValue"] is True)
        check("instance:     sealed-login-vm RUNNING VM.Standard.E4.Flex 1 OCPU 4 GB, mode confidential" in out
              and "AMD SEV True" in out and "TCP 443 PROXY v2" in out and "source preserved: false" in out, out)
        rc, out, err = env.run("plan", **conf)
        check(rc == 0 and "0 change(s) planned" in out, out)
        # the same shape, shielded: a new VM again (OCI cannot change platformConfig), on the image without SEV
        shl = dict(conf, mode="shielded")
        rc, out, err = env.run("deploy", "--replace-instance", **shl)
        check(rc == 0 and re.search(r"replace +instance +sealed-login-vm +mode confidential -> shielded", out), out + err)
        inst = dt.one(env.state(), "instance")
        check(inst["platformConfig"] == {"type": "AMD_VM", "isSecureBootEnabled": False, "isMeasuredBootEnabled": True,
                                         "isTrustedPlatformModuleEnabled": True}, inst["platformConfig"])
        check("mode shielded" in out and "tpm2 quote" in out, out)
        # a bigger VM of the same mode is a replacement too
        rc, out, err = env.run("plan", **dict(shl, memory_gbs="8"))
        check(rc == 0 and "1 OCPU/4 GB -> 1 OCPU/8 GB" in out, out)
        rc, out, err = env.run("teardown")
        check(rc == 0, err)
    finally:
        env.stop()


@case
def monitoring_fake_is_as_strict_as_oci():
    """What the guard and the alarm depend on: names, namespaces, dimensions, intervals, resolutions."""
    full = ("date", "(request-target)", "host", "content-length", "content-type", "x-content-sha256")
    path = f"/20180401/metrics/actions/summarizeMetricsData?compartmentId={dt.COMPARTMENT}"

    def q(**kw):
        body = {"namespace": "oci_vcn", "query": "VnicToNetworkBytes[1h].sum()",
                "startTime": "2026-12-01T00:00:00.000Z", "resolution": "1h"}
        body.update(kw)
        body = {k: v for k, v in body.items() if v is not None}
        return E.signed("POST", path, json.dumps(body).encode(), headers=full)
    E.control("config", egress_bytes=int(1e12))
    st, body, _ = q()
    check(st == 200 and len(body) >= 1 and body[0]["name"] == "VnicToNetworkBytes"
          and set(body[0]["dimensions"]) == {"resourceId"}, body)
    check(abs(sum(p["value"] for x in body for p in x["aggregatedDatapoints"]) - 1e12) < 1e6)
    # a misspelled metric, another namespace or an unknown dimension match nothing: no series, as OCI answers
    for kw in (dict(query="VnicToNetworkByte[1h].sum()"), dict(query="BytesToIgw[1h].sum()"),
               dict(namespace="oci_internet_gateway"), dict(query='VnicToNetworkBytes[1h]{vnicId = "x"}.sum()')):
        st, body, _ = q(**kw)
        check(st == 200 and body == [], (kw, st, body))
    # malformed MQL, intervals and resolutions outside 1m-60m/1h-24h/1d, misspelled fields: 400 InvalidParameter
    for kw in (dict(query="VnicToNetworkBytes[90m].sum()"), dict(query="VnicToNetworkBytes[1h].total()"),
               dict(query="VnicToNetworkBytes[1h].sum() > 5"), dict(resolution="2d"), dict(resolution="25h"),
               dict(startTime="yesterday"), dict(resolutoin="1h")):
        st, body, _ = q(**kw)
        check(st == 400 and body["code"] == "InvalidParameter", (kw, st, body))
    st, body, _ = q(namespace=None)
    check(st == 400 and body["code"] == "MissingParameter", body)
    # an alarm takes resolution 1m only and needs a condition
    topic = dt.one(E.state(), "onstopic")["topicId"]
    for extra in (dict(resolution="5m"), dict(query="VnicToNetworkBytes[1h].sum()")):
        b = dict({"displayName": "x", "compartmentId": dt.COMPARTMENT, "metricCompartmentId": dt.COMPARTMENT,
                  "namespace": "oci_vcn", "query": "VnicToNetworkBytes[1h].grouping().sum() > 1", "severity": "CRITICAL",
                  "destinations": [topic], "isEnabled": True}, **extra)
        st, body, _ = E.signed("POST", "/20180401/alarms", json.dumps(b).encode(), headers=full)
        check(st == 400 and body["code"] == "InvalidParameter", (extra, body))
    E.control("config", egress_bytes=0)


@case
def guard_never_fires_on_missing_data_and_says_so():
    E.control("config", egress_bytes=int(9.9e12), metrics_outage="empty")
    try:
        for outage in ("empty", 503):
            E.control("config", metrics_outage=outage)
            rc, out, err = E.run("guard")
            check(rc == 4 and "egress this month: UNKNOWN" in out and "not acting on missing data" in out, out + err)
            check(dt.one(E.state(), "instance")["lifecycleState"] == "RUNNING")
        rc, out, err = E.run("status")
        check(rc == 0 and "egress        UNKNOWN this month" in out, out)
    finally:
        E.control("config", egress_bytes=0, metrics_outage=None)


@case
def always_free_account_without_nat_gets_advice_then_public_ip_egress():
    env = dt.Env("free", free_tier=True)
    try:
        rc, out, err = env.run("deploy")
        check(rc == 1 and "HTTP 400 LimitExceeded: NAT gateway limit per VCN reached" in err
              and "vm_egress=public-ip" in err, err)
        rc, out, err = env.run("deploy", vm_egress="public-ip")
        check(rc == 0 and "VM egress:    its own public IP" in out, out + err)
        st = env.state()
        check(by_kind_empty(st, "natgateway") and by_kind_empty(st, "servicegateway"))
        vnic, igw = dt.one(st, "vnic"), dt.one(st, "internetgateway")
        check(vnic["privateIp"] == "10.0.1.50" and vnic["publicIp"], vnic)
        priv = [x for x in dt.by_kind(st, "subnet") if x["displayName"] == "sealed-login-private"][0]
        check(not priv["prohibitPublicIpOnVnic"])
        rt = [r for r in dt.by_kind(st, "routetable") if r["id"] == priv["routeTableId"]][0]
        check([r["networkEntityId"] for r in rt["routeRules"]] == [igw["id"]], rt["routeRules"])
        nlb = dt.one(st, "networkloadbalancer")
        check(nlb["ipAddresses"][0]["reservedIp"]["id"] == dt.one(st, "publicip")["id"])
        rc, out, err = env.run("teardown")
        check(rc == 0 and dt.by_kind(env.state(), "vcn") == [], err)
    finally:
        env.stop()


def by_kind_empty(st, kind):
    return dt.by_kind(st, kind) == []


@case
def signing_key_is_a_second_secret_and_printed_for_pinning():
    env = dt.Env("signkey")
    try:
        rsa = os.path.join(env.dir, "rsa.pem")
        dt.fc.openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", rsa)
        rc, out, err = env.run("deploy", signing_key_file=rsa)
        check(rc == 1 and "must be an EC P-256 key" in err and env.state()["resources"] == [], err)
        rc, out, err = env.run("deploy", signing_key_file="-", paypal_secret_file="-")
        check(rc == 1 and "only one of" in err, err)
        ec = os.path.join(env.dir, "signing.pem")
        dt.fc.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", ec)
        os.chmod(ec, 0o600)
        rc, out, err = env.run("deploy", signing_key_file=ec)
        check(rc == 0, out + err)
        pub = dt.fc.openssl("pkey", "-in", ec, "-pubout").decode()
        check(all(ln in out for ln in pub.splitlines()) and "--signer-key signer.pub.pem" in out, out)
        priv_body = "".join(open(ec).read().splitlines()[1:-1])
        check(priv_body[:40] not in out + err)
        st = env.state()
        secrets = {x["secretName"]: x for x in dt.by_kind(st, "vaultsecret")}
        check(set(secrets) == {"sealed-login-paypal-secret", "sealed-login-signing-key"}, secrets.keys())
        sk = secrets["sealed-login-signing-key"]
        check(base64.b64decode(st["secret_contents"][sk["id"]]).decode() == open(ec).read().rstrip("\n"))
        md = dt.one(st, "instance")["metadata"]
        check(md["signing_key_secret_ocid"] == sk["id"], md)
        pol = [p for p in dt.by_kind(st, "policy") if p["name"] == "sealed-login-vm-policy"][0]
        check(f"target.secret.id = '{sk['id']}'" in pol["statements"][0]
              and f"target.secret.id = '{md['secret_ocid']}'" in pol["statements"][0], pol["statements"])
        for a in env.argvs():
            check(priv_body[:40] not in "".join(a))
        rc, out, err = env.run("deploy")           # the key stays in the Vault when not given again
        check(rc == 0 and dt.one(env.state(), "instance")["metadata"].get("signing_key_secret_ocid") == sk["id"], out + err)
    finally:
        env.stop()


@case
def fake_refuses_what_oci_refuses():
    # unsigned, stale date, foreign key, body not matching x-content-sha256, body headers unsigned
    import urllib.request
    import urllib.error
    try:
        urllib.request.urlopen(E.url + "/20160918/vcns?compartmentId=" + dt.COMPARTMENT, timeout=5, context=E.tls())
        check(False, "unsigned request accepted")
    except urllib.error.HTTPError as e:
        check(e.code == 401 and json.loads(e.read())["code"] == "NotAuthenticated")
    st, body, _ = E.signed("GET", f"/20160918/vcns?compartmentId={dt.COMPARTMENT}", date="Thu, 05 Jan 2014 21:31:40 GMT")
    check(st == 401 and "not within allowed clock skew" in body["message"], body)
    other = os.path.join(E.dir, "foreign.pem")
    dt.fc.openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", other)
    st, body, _ = E.signed("GET", f"/20160918/vcns?compartmentId={dt.COMPARTMENT}", key=other)
    check(st == 401 and body["code"] == "NotAuthenticated")
    st, body, hdrs = E.signed("GET", f"/20160918/vcns?compartmentId={dt.COMPARTMENT}")
    check(st == 200 and "opc-request-id" in {k.lower() for k in hdrs})
    full = ("date", "(request-target)", "host", "content-length", "content-type", "x-content-sha256")
    b = json.dumps({"compartmentId": dt.COMPARTMENT, "cidrBlocks": ["10.9.0.0/16"]}).encode()
    st, body, _ = E.signed("POST", "/20160918/vcns", b, headers=full, body_sent=b.replace(b"10.9", b"10.8"))
    check(st in (400, 401), body)
    st, body, _ = E.signed("POST", "/20160918/vcns", b)          # body headers not signed
    check(st == 401 and "Missing required header to sign: content-length" in body["message"], body)
    # addressing: overlap, outside the VCN, a private IP already taken
    st0 = E.state()
    vcn, priv = dt.one(st0, "vcn"), [s for s in dt.by_kind(st0, "subnet") if s["displayName"] == "sealed-login-private"][0]
    for cidr, want in (("10.0.1.128/25", "overlaps"), ("10.1.0.0/24", "not within")):
        b = json.dumps({"compartmentId": dt.COMPARTMENT, "vcnId": vcn["id"], "cidrBlock": cidr}).encode()
        st, body, _ = E.signed("POST", "/20160918/subnets", b, headers=full)
        check(st == 400 and body["code"] == "InvalidParameter" and want in body["message"], body)
    inst = dt.one(st0, "instance")
    b = json.dumps({"compartmentId": dt.COMPARTMENT, "availabilityDomain": inst["availabilityDomain"],
                    "shape": "VM.Standard.E2.1.Micro", "sourceDetails": inst["sourceDetails"],
                    "createVnicDetails": {"subnetId": priv["id"], "privateIp": "10.0.1.50", "assignPublicIp": False}}).encode()
    st, body, _ = E.signed("POST", "/20160918/instances", b, headers=full)
    check(st == 409 and body["code"] == "Conflict" and "10.0.1.50 is already assigned" in body["message"], body)
    st, body, _ = E.signed("DELETE", f"/20160918/vcns/{vcn['id']}")
    check(st == 409 and body["code"] == "Conflict", body)
    st, body, _ = E.signed("POST", f"/20160918/instances/{inst['id']}?action=START", b"", headers=full)
    check(st == 409 and body["code"] == "IncorrectState" and "only when STOPPED" in body["message"], body)
    b = json.dumps({"cidrBlocks": ["10.7.0.0/16"]}).encode()
    st, body, _ = E.signed("POST", "/20160918/vcns", b, headers=full)
    check(st == 400 and body["code"] == "MissingParameter" and "compartmentId" in body["message"], body)
    st, body, _ = E.signed("GET", "/20160918/vcns")
    check(st == 400 and body["code"] == "MissingParameter", body)
    # a signature over another request target does not verify
    st, body, _ = E.signed("GET", f"/20160918/vcns?compartmentId={dt.COMPARTMENT}", path_sent="/20160918/subnets"
                           f"?compartmentId={dt.COMPARTMENT}")
    check(st == 401 and body["code"] == "NotAuthenticated", body)
    st, body, _ = E.signed("GET", f"/20160918/instances/ocid1.instance.oc1.phx.nosuch")
    check(st == 404 and body["code"] == "NotAuthorizedOrNotFound", body)
    check(len(E.state()["resources"]) == len(st0["resources"]), "a refused call created something")


@case
def changing_vm_egress_on_a_live_deployment_is_refused_before_any_change():
    n0 = len(E.state()["log"])
    rc, out, err = E.run("deploy", vm_egress="public-ip", image=E.image_big)
    check(rc == 1 and "was made for vm_egress=nat" in err and "tear down first" in err, err)
    check(creates(E.state(), n0) == [])


@case
def status_is_read_only_and_says_where_things_stand():
    n0 = len(E.state()["log"])
    rc, out, err = E.run("status")
    check(rc == 0, out + err)
    ip = dt.one(E.state(), "publicip")["ipAddress"]
    check(re.search(r"instance +sealed-login-vm +RUNNING +VM.Standard.E2.1.Micro +10.0.1.50", out), out)
    check(f"public IP     {ip}  ASSIGNED" in out and "backends    http: OK" in out and "backends    https: OK" in out, out)
    check("ops@example.com  PENDING  (not confirmed yet" in out and "0.0000 TB this month" in out, out)
    check(all(e[0] == "GET" or e[1].endswith("summarizeMetricsData") for e in E.state()["log"][n0:]))


@case
def egress_guard_stops_the_vm_at_the_cap():
    rc, out, err = E.run("guard")
    check(rc == 0 and "0.0000 TB of the 9.5 TB cap" in out and "instance RUNNING" in out, out + err)
    E.control("config", egress_bytes=int(9.2e12))
    rc, out, err = E.run("guard")
    check(rc == 0 and "96.8 %" in out and dt.one(E.state(), "instance")["lifecycleState"] == "RUNNING", out)
    E.control("config", egress_bytes=int(9.6e12))
    rc, out, err = E.run("guard")
    st = E.state()
    check(rc == 3 and "ACTED" in out and dt.one(st, "instance")["lifecycleState"] == "STOPPED", out + err)
    check(any(m["title"].endswith("egress cap reached, VM stopped") and m["topicId"] == dt.one(st, "onstopic")["topicId"]
              for m in st["messages"]), st["messages"])
    rc, out, err = E.run("guard")                  # already stopped: nothing more
    check(rc == 0 and "instance STOPPED" in out)
    rc, out, err = E.run("start")
    check(rc == 1 and "at the cap" in err, err)
    rc, out, err = E.run("status")
    check("STOPPED" in out and "http: CRITICAL (failing: 10.0.1.50:80)" in out, out)
    rc, out, err = E.run("deploy", image=E.image_big)     # a deploy does not undo the guard
    check(rc == 0 and dt.one(E.state(), "instance")["lifecycleState"] == "STOPPED", out + err)
    rc, out, err = E.run("deploy", "--replace-instance")     # nor does a new image (a new VM would start)
    check(rc == 1 and "would undo the egress guard" in err and dt.one(E.state(), "instance")["lifecycleState"] == "STOPPED",
          out + err)
    E.control("config", egress_bytes=0)
    rc, out, err = E.run("start")
    check(rc == 0 and dt.one(E.state(), "instance")["lifecycleState"] == "RUNNING", out + err)
    rc, out, err = E.run("deploy", "--replace-instance")
    check(rc == 0 and "replace  instance" in out, out + err)


@case
def metadata_drives_the_real_service_cloud_flow():
    """The instance metadata this deploy wrote, served by tests/cloud's instance-side fake, read by the
    service's own cloud state machine (build/tests/cloud/cloud_driver): secret, client id, domain."""
    sys.path.insert(0, os.path.join(dt.ROOT, "tests", "cloud"))
    import cloudtest as ct
    st = E.state()
    md = dt.one(st, "instance")["metadata"]
    secret_id = md["secret_ocid"]
    stored = base64.b64decode(st["secret_contents"][secret_id]).decode()
    fake = ct.Fake("oci", md, {secret_id: stored}, [md["notification_topic_id"]])
    try:
        r = ct.run_driver(fake, "--timeout", "30")
        check(r.rc == 0 and r.ready, r.log[-2000:])
        check(r.fields["paypal_client_id"] == "AZdeployTestClientId" and r.fields["domain"] == "login.example.com", r.fields)
        check(r.fields["paypal_secret_sha256"] == ct.sha(dt.PAYPAL_SECRET), r.fields)
        # every key applied, only the fake's own ssh key ignored
        check(any("applied=4 ignored=1" in ln for ln in r.lines("cloud.metadata")), r.log[-2000:])
    finally:
        fake.stop()


@case
def teardown_leaves_nothing_and_redeploy_restores_the_vault():
    rc, out, err = E.run("teardown-plan")
    n0 = len(E.state()["log"])
    check(rc == 0 and "delete   VCN" in out, out + err)
    rc, out, err = E.run("teardown")
    check(rc == 0 and "torn down" in out, out + err)
    st = E.state()
    live = [r for r in st["resources"] if r.get("lifecycleState") not in dt.DEAD | {"PENDING_DELETION", "DETACHED"}
            and (r.get("id") or "").split(".")[1] != "workrequest"]
    check(live == [], [(r.get("id"), r.get("lifecycleState")) for r in live])
    check(st["buckets"] == [] and st["objects"] == {} and st["uploads"] == [])
    pending = {(r.get("id") or "").split(".")[1] for r in st["resources"] if r.get("lifecycleState") == "PENDING_DELETION"}
    check(pending == {"vault", "key", "vaultsecret"}, pending)
    # a second teardown finds nothing to do
    n1 = len(st["log"])
    rc, out, err = E.run("teardown")
    check(rc == 0 and creates(E.state(), n1) == [], creates(E.state(), n1))
    check(n1 > n0)
    rc, out, err = E.run("deploy")
    check(rc == 0 and "restored vault" in out and "restored secret" in out, out + err)
    st = E.state()
    check(dt.one(st, "vault")["lifecycleState"] == "ACTIVE" and len(dt.by_kind(st, "vaultsecret")) == 1)
    rc, out, err = E.run("teardown")
    check(rc == 0, err)


try:
    done()
finally:
    E.stop()
