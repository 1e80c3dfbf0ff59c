#!/usr/bin/env python3
"""Writes the seed corpus under fuzz/seeds/<target>/ (committed; run again
only to change it). Seeds come from the crates' tests and from the kubectl
1.32 wire capture; the protobuf seeds are rebuilt byte for byte the way
crates/wire/tests/kubectl_capture.rs rebuilds kubectl's bodies.

usage: make_seeds.py [CAPTURE]  (default /work/shared/reference/kubectl-1.32-wire-capture.txt)
"""
import hashlib
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SEEDS = os.path.join(HERE, "..", "seeds")
CAPTURE = sys.argv[1] if len(sys.argv) > 1 else "/work/shared/reference/kubectl-1.32-wire-capture.txt"


def capture_requests():
    """(content type, url, body bytes) of every captured request with a textual body."""
    out = []
    with open(CAPTURE, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped.startswith("body: ") or i == 0:
            continue
        # The request line is the closest one above with a content type.
        j = i - 1
        while j > 0 and "[CT: " not in lines[j]:
            j -= 1
        ct = lines[j].split("[CT: ", 1)[1].split("]", 1)[0]
        url = lines[j].split()[3] if len(lines[j].split()) > 3 else ""
        body = stripped[len("body: "):]
        if ct == "application/vnd.kubernetes.protobuf":
            continue  # printed lossily; rebuilt below
        if body.endswith("\\n"):
            body = body[:-2] + "\n"
        out.append((ct, url, body.encode()))
    return out


def valid_json(b):
    try:
        json.loads(b)
        return True
    except ValueError:
        return False


# --- protobuf, as gogo marshals what kubectl builds -------------------------

def varint(v):
    out = bytearray()
    while True:
        byte = v & 0x7F
        v >>= 7
        if v == 0:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def key(tag, wire):
    return varint(tag << 3 | wire)


def ld(tag, value):
    return key(tag, 2) + varint(len(value)) + value


def string(tag, s):
    return ld(tag, s.encode())


def message(tag, parts):
    return ld(tag, b"".join(parts))


def integer(tag, v):
    return key(tag, 0) + varint(v)


def entry(tag, k, v):
    return message(tag, [string(1, k), string(2, v)])


def meta(tag, name, labels=()):
    parts = [string(1, name), string(2, ""), string(3, ""), string(4, ""), string(5, ""),
             string(6, ""), integer(7, 0), message(8, [])]
    parts += [entry(11, k, v) for k, v in labels]
    return message(tag, parts)


def envelope(api_version, kind, raw):
    return (b"k8s\x00" + message(1, [string(1, api_version), string(2, kind)])
            + message(2, raw) + string(3, "") + string(4, ""))


def container(name, image, extra=()):
    return message(2, [string(1, name), string(2, image), string(5, ""), message(8, []),
                       string(13, ""), string(14, ""), integer(16, 0), integer(17, 0),
                       integer(18, 0), string(20, "")] + list(extra))


def pod_spec_rest(restart_policy):
    return [string(3, restart_policy), string(6, ""), string(8, ""), string(9, ""),
            string(10, ""), integer(11, 0), integer(12, 0), integer(13, 0), string(16, ""),
            string(17, ""), string(19, ""), string(24, "")]


def protobuf_seeds():
    seeds = {}
    seeds["secret"] = envelope("v1", "Secret", [meta(1, "s1"), entry(2, "a", "b"), string(3, "")])
    seeds["serviceaccount"] = envelope("v1", "ServiceAccount", [meta(1, "sa1")])
    seeds["namespace"] = envelope("v1", "Namespace", [meta(1, "team-a"), message(2, []),
                                                       message(3, [string(1, "")])])
    seeds["configmap"] = envelope("v1", "ConfigMap", [meta(1, "c1"), entry(2, "k", "v")])
    attributes = message(1, [string(1, "default"), string(2, "create"), string(3, ""),
                             string(4, ""), string(5, "pods"), string(6, ""), string(7, "")])
    seeds["selfsubjectaccessreview"] = envelope(
        "authorization.k8s.io/v1", "SelfSubjectAccessReview",
        [meta(1, ""), message(2, [attributes]),
         message(3, [integer(1, 0), string(2, ""), string(3, ""), integer(4, 0)])])
    seeds["selfsubjectrulesreview"] = envelope(
        "authorization.k8s.io/v1", "SelfSubjectRulesReview",
        [meta(1, ""), message(2, [string(1, "default")]), message(3, [integer(3, 0), string(4, "")])])
    seeds["selfsubjectreview"] = envelope(
        "authentication.k8s.io/v1", "SelfSubjectReview",
        [meta(1, ""), message(2, [message(1, [string(1, ""), string(2, "")])])])
    labels = [("app", "d2")]
    pod_spec = [container("nginx", "nginx")] + pod_spec_rest("")
    seeds["deployment"] = envelope("apps/v1", "Deployment", [
        meta(1, "d2", labels),
        message(2, [integer(1, 1), message(2, [entry(1, "app", "d2")]),
                    message(3, [meta(1, "", labels), message(2, pod_spec)]),
                    message(4, [string(1, "")]), integer(5, 0), integer(7, 0)]),
        message(3, [integer(i, 0) for i in (1, 2, 3, 4, 5, 7)])])
    job_spec = [container("j1", "busybox")] + pod_spec_rest("Never")
    seeds["job"] = envelope("batch/v1", "Job", [
        meta(1, "j1"), message(2, [message(6, [meta(1, ""), message(2, job_spec)])]),
        message(3, [integer(4, 0), integer(5, 0), integer(6, 0), string(7, "")])])
    # A pod with ports, env, a resource quantity and a probe: more message types.
    port = message(6, [string(1, "http"), integer(2, 0), integer(3, 80), string(4, "TCP")])
    env = message(7, [string(1, "A"), string(2, "1")])
    limits = message(8, [message(1, [string(1, "cpu"), message(2, [string(1, "250m")])])])
    probe = message(10, [message(1, [message(2, [string(1, "/healthz"), message(2, [integer(1, 0), integer(2, 8080)])])]),
                         integer(2, 5), integer(3, 1)])
    pod_container = message(2, [string(1, "web"), string(2, "nginx:1.25"), port, env, limits, probe])
    seeds["pod"] = envelope("v1", "Pod", [
        meta(1, "web-pod", [("app", "web")]),
        message(2, [pod_container, string(3, "Always"), string(10, "node-1")])])
    return seeds


# --- the seeds of each target ----------------------------------------------

LABEL_SELECTORS = [
    "app=web", "app=web-d", "kubernetes.io/cluster-service=true",
    "kubernetes.io/service-name=web-svc", "a=1,b=2,c in (x,y),d,!e,f notin (z)",
    "a=b,c!=d,e==f,!g,h,i in (j),k notin (l,m),n>5,o<7", "env in (prod,dev)",
    "app.kubernetes.io/name=web", "  a  =  b  ,\tc\n", "!env", "env notin (dev)", "x in ()",
    "a in (,b)", "tier", "a=", "n>4,n<6", "a in (b", "a in (b c)", "a=b=c", "in=notin",
    "-bad=x", "example.com/x-y_z.w=V-1_2.3", "",
]

FIELD_SELECTORS = [
    "metadata.name=wait-pod", "metadata.name=web-pod",
    "involvedObject.name=web,involvedObject.namespace=default,involvedObject.kind=Deployment,"
    "involvedObject.uid=605938b3-0000-4000-8000-1afa25682657",
    "metadata.name=foo,spec.nodeName!=", "a=x\\,y\\=z\\\\w,b=c\\,d", "status.phase==Running",
    "spec.nodeName=node-1,metadata.namespace!=kube-system",
    "involvedObject.kind=Node,reportingComponent=ctrl", "type=Normal", "spec.host=node-1",
    "status.podIP=10.1.1.1", "spec.restartPolicy=Always,spec.schedulerName=default-scheduler",
    "regarding.name=web", "data.x=1", "a=b\\x", "abc", "",
]

JSON_PATCHES = [
    '[{"op":"replace","path":"/spec/replicas","value":3}]',
    '[{"op":"add","path":"/metadata/labels/tier","value":"fe"}]',
    '[{"op":"remove","path":"/spec/template/spec/containers/0/env/0"}]',
    '[{"op":"move","from":"/metadata/labels/app","path":"/metadata/labels/was"}]',
    '[{"op":"copy","from":"/spec/template/metadata","path":"/metadata/annotations"}]',
    '[{"op":"test","path":"/spec/replicas","value":2},{"op":"replace","path":"/spec/replicas","value":5}]',
    '[{"op":"add","path":"/data/new","value":"x"},{"op":"remove","path":"/data/k"}]',
    '[{"op":"add","path":"/spec/template/spec/containers/-","value":{"name":"side","image":"busybox"}}]',
    '[{"op":"add","path":"/metadata/labels/a~1b","value":"c"}]',
    '[{"op":"test","path":"/metadata/name","value":"other"}]', '[]',
]

MERGE_PATCHES = [
    '{"data":{"k":null,"n":"1"}}', 'null', '[]', '"x"',
    '{"spec":{"template":{"spec":{"containers":[{"name":"x"}]}}}}', '{"metadata":null}',
]

STRATEGIC_PATCHES = [
    '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","$patch":"delete"}]}}}}',
    '{"metadata":{"$deleteFromPrimitiveList/finalizers":["example.com/keep"]}}',
    '{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"nginx"}],"containers":'
    '[{"name":"nginx","$setElementOrder/env":[{"name":"B"},{"name":"A"}],"env":[{"name":"B","value":"2"}]}]}}}}',
    '{"spec":{"$retainKeys":["replicas","selector","template"],"replicas":1}}',
    '{"data":{"$patch":"replace","x":"y"}}', '{"$patch":"delete"}',
    '{"spec":{"template":{"spec":{"tolerations":[{"key":"k2","operator":"Exists"}]}}}}',
    '{"metadata":{"$setElementOrder/finalizers":["b","example.com/keep"],"finalizers":["b"]}}',
    '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","ports":[{"containerPort":80,"$patch":"delete"}],"args":["x"]}]}}}}',
    '{"spec":{"template":{"spec":{"containers":[{"$patch":"replace"},{"name":"only","image":"i"}]}}}}',
    '{"spec":{"ports":[{"port":80,"protocol":"TCP","targetPort":8080},{"port":443,"protocol":"TCP"}]}}',
    '{"spec":{"ports":[{"port":53,"protocol":"UDP","$patch":"delete"}]}}',
    '{"spec":{"$setElementOrder/ports":[{"port":53,"protocol":"UDP"},{"port":80,"protocol":"TCP"}],'
    '"ports":[{"port":53,"protocol":"UDP","name":"domain"}]}}',
]

APPLY_YAML = [
    b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c1\n  namespace: default\ndata:\n  shared: \"2\"\n  mine: x\n",
    b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n  template:\n"
    b"    spec:\n      containers:\n      - name: nginx\n        image: nginx:1.26\n        env:\n"
    b"        - name: B\n          value: \"2\"\n",
    b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web-d, owner: fuzz}\n",
    b"apiVersion: v1\nkind: Service\nmetadata:\n  name: web-svc\nspec:\n  ports:\n  - port: 80\n"
    b"    protocol: TCP\n    targetPort: 8080\n  - port: 8443\n    protocol: TCP\n",
]

APPLY_JSON = [
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c1", "namespace": "default"},
     "data": {"shared": "2", "mine": "x"}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
     "spec": {"replicas": 3, "template": {"spec": {"containers": [
         {"name": "nginx", "image": "nginx:1.26", "env": [{"name": "B", "value": "2"}]}]}}}},
    {"apiVersion": "apps/v1", "kind": "Deployment",
     "metadata": {"name": "web", "labels": {"app": "web-d", "owner": "fuzz"}, "finalizers": ["mine"]}},
    {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web-svc"},
     "spec": {"ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080},
                        {"port": 8443, "protocol": "TCP"}]}},
]

YAML_BODIES = [
    b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-pod\n  labels:\n    app: web\nspec:\n  containers:\n"
    b"  - name: nginx\n    image: nginx:1.25\n    ports:\n    - containerPort: 80\n",
    b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c1}\ndata:\n  script: |\n    echo hi\n    exit 0\n"
    b"  folded: >-\n    a\n    b\n  quoted: 'it''s'\n  num: \"007\"\n",
    b"defaults: &d\n  image: busybox\nkind: Pod\nspec:\n  containers:\n  - <<: *d\n    name: a\n  - *d\n",
    b"---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n...\n",
    b"%YAML 1.2\n---\n? complex\n: !!str 1\nlist: [a, {b: c}, ~, yes, 0x1F, .inf]\n",
    b"a: 1\n---\nb: 2\n", b"- not an object\n", b"{}",
]

DUPLICATES = b'{"metadata":{"name":"a","name":"b"},"spec":{"containers":[{"image":"x","image":"y"}]},"spec":{}}'

# Bearer tokens and token files. The JWTs were signed once with the key
# whose public half is fuzz/src/tokens.rs's PUBLIC_KEY (the private half
# was thrown away); they are valid at the target's fixed time.
TOKEN_JWTS = [
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IjZwellQUUxCN203Qnk0azFTcXo5SlVYRkxwdFlWejAxN3dhc3dzMVFjZ0EifQ.eyJpc3MiOiJodHRwczovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMuY2x1c3Rlci5sb2NhbCIsInN1YiI6InN5c3RlbTpzZXJ2aWNlYWNjb3VudDpkZWZhdWx0OmJ1aWxkZXIiLCJhdWQiOlsiaHR0cHM6Ly9rdWJlcm5ldGVzLmRlZmF1bHQuc3ZjLmNsdXN0ZXIubG9jYWwiXSwiZXhwIjoyMDY0MDk2MDAwLCJpYXQiOjE3NDg3MzYwMDAsIm5iZiI6MTc0ODczNjAwMCwianRpIjoiN2ZiZjRiN2QtMWQyZC00Y2E4LWFlZTItOWVhODI5NjY5NDM4Iiwia3ViZXJuZXRlcy5pbyI6eyJuYW1lc3BhY2UiOiJkZWZhdWx0Iiwic2VydmljZWFjY291bnQiOnsibmFtZSI6ImJ1aWxkZXIiLCJ1aWQiOiJzYS11aWQifSwicG9kIjp7Im5hbWUiOiJ3ZWItMCIsInVpZCI6InBvZC11aWQifSwibm9kZSI6eyJuYW1lIjoibm9kZS0xIiwidWlkIjoibm9kZS11aWQifX19.L6SUnDIDC-ctZOcAfe6pd5vtaNjjiXsQWnQBriszOiBs97AHMOMm80jpJt1D9OeYYBo-aIsxX9rE93RLbjs5SMf0HGZ45UqGFMt77tLU78C-vUkhjXh4EYB35udjiBg-qKrbE5hXwnBqujbVhvhEtr0gxb8--GzL6IJl0y2k6TV18u1-rGZU7Wqc4If9ZMCIYxvcectQ9h29dUw0QChgLj2As9vbiOuG_JbU9XglvWfhaZRPVVRSE_ozGXuzIwauMomUJDnCuhpwY1gzabBuKnz3MjJ86Li5cTD7q4WmnAg_Tmh9UCR4znHYaXAybiC51j4YWxa3qOlFzAYEoSq1Lg",
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IjZwellQUUxCN203Qnk0azFTcXo5SlVYRkxwdFlWejAxN3dhc3dzMVFjZ0EifQ.eyJpc3MiOiJodHRwczovL2t1YmVybmV0ZXMuZGVmYXVsdC5zdmMuY2x1c3Rlci5sb2NhbCIsInN1YiI6InN5c3RlbTpzZXJ2aWNlYWNjb3VudDpkZWZhdWx0OmJ1aWxkZXIiLCJhdWQiOltdLCJleHAiOjIwNjQwOTYwMDAsImlhdCI6MTc0ODczNjAwMCwibmJmIjoxNzQ4NzM2MDAwLCJqdGkiOiJiZTQ2ZWJiYS1mY2U5LTQ1OTctYWFkNi02NmJlNmEzMmY3ZDkiLCJrdWJlcm5ldGVzLmlvIjp7Im5hbWVzcGFjZSI6ImRlZmF1bHQiLCJzZXJ2aWNlYWNjb3VudCI6eyJuYW1lIjoiYnVpbGRlciIsInVpZCI6InNhLXVpZCJ9fX0.BNKtTc0tHcPfWt_8ueHKDolEmQGJNSjJC0UXds3CPc8Nb6q8HF3JaTY7uDyoOD0E3o5m3dEb2KzTNukK7cJRDeIQlpeep41GHhBHs-fz76tsKQ8GeFAwHlvaC9_MH2bivw7tn3CAGs3Cyk4Baf8QgjSEsMoFyRENtpW70Lht3tE3OMPjj8IBwji4zB_nxZ9PfJ8UjNs_x4NxEEY9adNxLB3swoXAn--FTe2HOeP1hQcFX1j50tnvLklYBlJrzkXXfO67T_EhvikXk2GzqSY917dWmYO1AiGgCIxVR48aukF0EwTOMNXxmDz9moHHDPO2bwoCYcsKQwI2L1cYTuAIXw",
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IjZwellQUUxCN203Qnk0azFTcXo5SlVYRkxwdFlWejAxN3dhc3dzMVFjZ0EifQ.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50Iiwic3ViIjoic3lzdGVtOnNlcnZpY2VhY2NvdW50OmRlZmF1bHQ6YnVpbGRlciIsImt1YmVybmV0ZXMuaW8vc2VydmljZWFjY291bnQvbmFtZXNwYWNlIjoiZGVmYXVsdCIsImt1YmVybmV0ZXMuaW8vc2VydmljZWFjY291bnQvc2VjcmV0Lm5hbWUiOiJidWlsZGVyLXRva2VuIiwia3ViZXJuZXRlcy5pby9zZXJ2aWNlYWNjb3VudC9zZXJ2aWNlLWFjY291bnQubmFtZSI6ImJ1aWxkZXIiLCJrdWJlcm5ldGVzLmlvL3NlcnZpY2VhY2NvdW50L3NlcnZpY2UtYWNjb3VudC51aWQiOiJzYS11aWQifQ.xdudL59DtvT2iNeAy5Zd9Vrv7cJsL1-W5d7x-guJT0Yimkyee4qttEO3HY2eTCjBAzhSUPvmr2yd76Rb9f-5851xSrWN8bM4U6FDBXqmqNWlWcDflrVDIAOausxvTxN1TeZQffL8oIOhIqvzxWujiQe_pLe0EsT4bbdZKzQo3lkzZZb09hX0gSMDrdVuo-Fg_j5yoWsGIn9BdNuk8GhkUCU_gZ7m-CjCRU7enf45HfEBEtDZz-3G-OWdjNsr-cOUm77HqT1V6OvtMVUTAURRHjA2dnAaFRG-6iu-CCk00CoAVMRgrU9gSImixQEOLr1A4opeJ6qcPvfcMH2iBQRLqA",
]
TOKEN_SEEDS = [
    b"abcdef.0123456789abcdef",
    b"abcdef.ffffffffffffffff",
    b"s3cr3t-admin",
    b"31ada4fd-adec-460c-809a-9e56ceb75269,admin,1,\"system:masters,dev\"\n"
    b"kubelet-token,kubelet,10001,system:nodes\n,empty,0\nt3,alice,alice-uid\n",
    b"t1,u1,1\r\nt1,u2,2,\"multi\nline\"\r\n\n",
    b"eyJhbGciOiJub25lIn0.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50In0.",
] + [t.encode() for t in TOKEN_JWTS]


ABAC_V1 = '{"apiVersion":"abac.authorization.kubernetes.io/v1beta1","kind":"Policy","spec":%s}'
ABAC_POLICIES = [
    # The documented example file.
    "\n".join(ABAC_V1 % spec for spec in [
        '{"user":"*","nonResourcePath":"*","readonly":true}',
        '{"user":"admin","namespace":"*","resource":"*","apiGroup":"*"}',
        '{"user":"scheduler","namespace":"*","resource":"pods","readonly":true}',
        '{"user":"scheduler","namespace":"*","resource":"bindings"}',
        '{"user":"kubelet","namespace":"*","resource":"pods","readonly":true}',
        '{"user":"kubelet","namespace":"*","resource":"events"}',
        '{"user":"alice","namespace":"projectCaribou","resource":"*","apiGroup":"*"}',
        '{"user":"bob","namespace":"projectCaribou","resource":"*","apiGroup":"*","readonly":true}',
    ]) + "\n",
    # Legacy lines, comments and blank lines.
    '# legacy policies\n\n{"readonly": true, "resource": "events"}\n{"user":"scheduler", "readonly": true, "resource": "pods"}\n'
    '{"user":"alice", "namespace": "projectCaribou"}\r\n{"group":"admins"}\n   # indented comment\n{}\n',
    # Groups, API groups, path prefixes, nulls and the explicit v0.
    "\n".join([
        ABAC_V1 % '{"group":"system:authenticated","readonly":true,"nonResourcePath":"/version"}',
        ABAC_V1 % '{"group":"admins","namespace":"*","resource":"*","apiGroup":"*"}',
        ABAC_V1 % '{"user":"system:node:n1","namespace":"","resource":"nodes","apiGroup":""}',
        ABAC_V1 % '{"user":"*","readonly":true,"nonResourcePath":"/healthz/*"}',
        ABAC_V1 % '{"user":null,"group":"x","namespace":"ns1","resource":"widgets","apiGroup":"x"}',
        '{"apiVersion":"abac.authorization.kubernetes.io/v0","kind":"Policy","user":"bob","readonly":true}',
    ]),
    # Errors: unknown fields, versions and kinds, bad JSON, wrong types.
    '{"user":"bob", "ns": "projectCaribou"}',
    ABAC_V1 % '{"user":"a","verbs":["get"]}',
    '{"apiVersion":"abac.authorization.kubernetes.io/v1","kind":"Policy","spec":{}}',
    '{"apiVersion":"abac.authorization.kubernetes.io/v1beta1","kind":"Rule","spec":{}}',
    '{"user":"a"}\n{"user":',
    ABAC_V1 % '{"user":"a","readonly":"yes"}',
    '[{"user":"a"}]',
]


def write(target, named):
    directory = os.path.join(SEEDS, target)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    seen = set()
    for name, data in named:
        if isinstance(data, str):
            data = data.encode()
        if data in seen:
            continue
        seen.add(data)
        if name is None:
            name = hashlib.sha1(data).hexdigest()[:12]
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)


def main():
    requests = capture_requests()
    # The capture cuts bodies at 400 characters; only whole ones are seeds.
    by_ct = {}
    for ct, _, body in requests:
        if valid_json(body):
            by_ct.setdefault(ct, []).append(body)
    json_bodies = by_ct.get("application/json", [])

    write("label_selector", [(None, s) for s in LABEL_SELECTORS])
    write("field_selector", [(None, s) for s in FIELD_SELECTORS])
    write("json_patch", [(None, b) for b in by_ct.get("application/json-patch+json", [])]
          + [(None, p) for p in JSON_PATCHES])
    write("merge_patch", [(None, b) for b in by_ct.get("application/merge-patch+json", [])]
          + [(None, p) for p in MERGE_PATCHES])
    write("strategic_merge_patch", [(None, b) for b in by_ct.get("application/strategic-merge-patch+json", [])]
          + [(None, p) for p in STRATEGIC_PATCHES])
    # kubectl sends apply configurations as JSON, and the tree mutations of
    # the smoke runner need JSON; one YAML seed keeps the YAML path covered.
    applied = APPLY_YAML[:1] + [json.dumps(v, separators=(",", ":")).encode() for v in APPLY_JSON]
    write("server_side_apply", [(None, b) for b in by_ct.get("application/apply-patch+yaml", [])]
          + [(None, b) for b in applied])
    write("body_json", [(None, b) for b in json_bodies] + [("duplicates", DUPLICATES)])
    write("body_yaml", [(None, b) for b in YAML_BODIES] + [(None, b) for b in json_bodies[:3]])
    write("body_protobuf", sorted(protobuf_seeds().items()))
    write("abac_policy", [(None, p) for p in ABAC_POLICIES])
    write("token", [(None, t) for t in TOKEN_SEEDS])


if __name__ == "__main__":
    main()
