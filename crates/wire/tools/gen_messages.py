#!/usr/bin/env python3
"""Writes crates/wire/src/protobuf/messages/*.rs and kinds.rs: one `message!` line per
k8s-pb message reachable from the supported kinds.

Why generated: the prost types know only snake_case field names and tag numbers. The
JSON name, whether Go's `encoding/json` leaves a zero value out (`omitempty` on a
non-pointer field) and whether a struct is inlined (`json:",inline"`) live only in the
Go types, so each prost field is joined with its Go field on (message, tag number).

Usage (from the repository root):
    python3 crates/wire/tools/gen_messages.py \
        --k8s-pb ~/.cargo/registry/src/*/k8s-pb-0.9.0 \
        --api /work/.mirror/kubernetes+api/repo \
        --apimachinery /work/.mirror/kubernetes+apimachinery/repo \
        --tag v0.35.0
The Go sources are read with `git show <tag>:<path>` from bare mirrors.
"""

import argparse
import os
import re
import subprocess
import sys
from collections import OrderedDict

# Groups whose kinds a protobuf body may carry. Every kind with a `Resource` impl in these
# modules is supported, plus the EXTRA_KINDS (sub-resource bodies and options).
GROUPS = [
    "core/v1", "apps/v1", "batch/v1", "rbac/v1", "authorization/v1", "authentication/v1",
    "coordination/v1", "policy/v1", "autoscaling/v1", "autoscaling/v2", "networking/v1",
    "scheduling/v1", "certificates/v1", "events/v1", "discovery/v1", "storage/v1", "node/v1",
]
EXTRA_KINDS = [
    # (module, message, apiVersion, kind)
    ("api::authentication::v1", "TokenRequest", "authentication.k8s.io/v1", "TokenRequest"),
    ("api::policy::v1", "Eviction", "policy/v1", "Eviction"),
    ("api::autoscaling::v1", "Scale", "autoscaling/v1", "Scale"),
    ("apimachinery::pkg::apis::meta::v1", "DeleteOptions", "meta.k8s.io/v1", "DeleteOptions"),
]
# Messages whose JSON form is written by hand in src/protobuf/special.rs.
SPECIAL = {
    "apimachinery::pkg::apis::meta::v1::Time",
    "apimachinery::pkg::apis::meta::v1::MicroTime",
    "apimachinery::pkg::apis::meta::v1::Duration",
    "apimachinery::pkg::apis::meta::v1::FieldsV1",
    "apimachinery::pkg::util::intstr::IntOrString",
    "apimachinery::pkg::api::resource::Quantity",
    "apimachinery::pkg::runtime::RawExtension",
}
# Special messages whose Go zero value Go's JSON leaves out of a non-pointer field
# (`keep` marks pointer fields and fields without omitempty).
ZERO_AWARE = {"IntOrString", "Time", "MicroTime"}

PROST_ATTR = re.compile(r"#\[prost\((.*?)\)\]\s*pub\s+(r#\w+|\w+)\s*:\s*", re.S)


def norm(name):
    return name.replace("_", "").lower()


def camel(field):
    field = field[2:] if field.startswith("r#") else field
    parts = field.split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


class ProstField:
    def __init__(self, name, attr, rust_type):
        self.name = name
        self.attr = attr
        self.rust_type = rust_type
        self.tag = int(re.search(r'tag\s*=\s*"(\d+)"', attr).group(1))
        self.kind = attr.split(",")[0].strip()
        self.repeated = "repeated" in attr
        self.is_map = self.kind.startswith("btree_map") or self.kind.startswith("map")
        self.refs = []  # rust type paths of messages this field refers to


def read_prost_module(src_root, module):
    path = os.path.join(src_root, "src", *module.split("::"), "mod.rs")
    with open(path) as f:
        lines = [ln for ln in f if not ln.lstrip().startswith("///")]
    text = "".join(lines)
    structs = OrderedDict()
    resources = {}
    for m in re.finditer(r"^pub struct (\w+) \{\n(.*?)^\}", text, re.S | re.M):
        name, body = m.group(1), m.group(2)
        fields = []
        matches = list(PROST_ATTR.finditer(body))
        for i, fm in enumerate(matches):
            end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
            rust_type = " ".join(body[fm.end():end].split()).rstrip(",").strip()
            fields.append(ProstField(fm.group(2), fm.group(1), rust_type))
        structs[name] = fields
    for m in re.finditer(
        r"impl crate::Resource for (\w+) \{\s*const API_VERSION: &'static str = \"([^\"]*)\";"
        r".*?const KIND: &'static str = \"([^\"]*)\";",
        text,
        re.S,
    ):
        resources[m.group(1)] = (m.group(2), m.group(3))
    return structs, resources


def resolve(module, path):
    """Resolves a type path used inside `module` to (module, name)."""
    parts = path.split("::")
    mod = module.split("::")
    while parts and parts[0] == "super":
        mod = mod[:-1]
        parts = parts[1:]
    if parts and parts[0] == "crate":
        mod = []
        parts = parts[1:]
    return "::".join(mod + parts[:-1]), parts[-1]


SCALARS = {"String", "i32", "i64", "u32", "u64", "bool", "f64", "f32", "u8"}


def message_refs(module, rust_type):
    refs = []
    for tok in re.findall(r"[\w:]+", rust_type):
        last = tok.split("::")[-1]
        if last in SCALARS or last in ("Option", "Vec", "BTreeMap", "Box"):
            continue
        if tok.startswith("::"):
            continue
        refs.append(resolve(module, tok))
    return refs


def go_source_files(repo, tag, directory):
    out = subprocess.run(
        ["git", "-C", repo, "ls-tree", "--name-only", f"{tag}:{directory}"],
        check=True, capture_output=True, text=True,
    ).stdout.split()
    names = [n for n in out if n.endswith(".go") and not n.endswith("_test.go")
             and not n.startswith("zz_generated") and not n.startswith("generated")]
    for n in names:
        yield subprocess.run(
            ["git", "-C", repo, "show", f"{tag}:{directory}/{n}"],
            check=True, capture_output=True, text=True,
        ).stdout


class GoField:
    def __init__(self, go_type, json_name, omitempty, inline, proto_name):
        self.go_type = go_type
        self.json_name = json_name
        self.omitempty = omitempty
        self.inline = inline
        self.proto_name = proto_name


def parse_go(sources):
    """Returns ({struct: {tag: GoField}}, {list wrapper type names})."""
    structs = {}
    wrappers = set()
    field_re = re.compile(r"^\s*(?:(\w+)\s+)?(\S+)\s+`([^`]*)`")
    for src in sources:
        for m in re.finditer(r"^type (\w+) \[\]\w+\s*$", src, re.M):
            wrappers.add(m.group(1))
        for m in re.finditer(r"^type (\w+) struct \{\n(.*?)^\}", src, re.S | re.M):
            fields = {}
            for line in m.group(2).split("\n"):
                if line.strip().startswith("//"):
                    continue
                fm = field_re.match(line)
                if not fm:
                    continue
                tags = fm.group(3)
                pm = re.search(r'protobuf:"([^"]*)"', tags)
                if not pm or pm.group(1) == "-":
                    continue
                pparts = pm.group(1).split(",")
                tag = int(pparts[1])
                proto_name = next((p[5:] for p in pparts if p.startswith("name=")), "")
                jm = re.search(r'json:"([^"]*)"', tags)
                jparts = jm.group(1).split(",") if jm else [""]
                go_type = fm.group(2)
                embedded = fm.group(1) is None
                json_name = jparts[0]
                inline = "inline" in jparts[1:] or (embedded and json_name == "")
                omitempty = "omitempty" in jparts[1:] or "omitzero" in jparts[1:]
                fields[tag] = GoField(go_type, json_name, omitempty, inline, proto_name)
            structs[m.group(1)] = fields
    return structs, wrappers


def go_location(module):
    parts = module.split("::")
    if parts[0] == "api":
        return "api", "/".join(parts[1:])
    if module == "apimachinery::pkg::apis::meta::v1":
        return "apimachinery", "pkg/apis/meta/v1"
    return None, None


def field_spec(module, field, go_field, special_names):
    """One entry of a message! line: `name`, `name => "json"`, `name: keep`, ..."""
    if go_field.inline:
        return f"{field.name}: inline"
    spec = field.name
    if camel(field.name) != go_field.json_name:
        spec += f' => "{go_field.json_name}"'
    scalar_or_zero_aware = not field.repeated and not field.is_map and (
        field.kind != "message"
        or any(name in ZERO_AWARE for _, name in field.refs)
    )
    keep = go_field.go_type.startswith("*") or not go_field.omitempty
    if scalar_or_zero_aware and keep:
        spec += ": keep"
    return spec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--k8s-pb", required=True)
    ap.add_argument("--api", required=True)
    ap.add_argument("--apimachinery", required=True)
    ap.add_argument("--tag", required=True)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "src", "protobuf"))
    args = ap.parse_args()

    prost = {}
    resources = {}

    def prost_module(module):
        if module not in prost:
            prost[module], resources[module] = read_prost_module(args.k8s_pb, module)
        return prost[module]

    roots = []  # (module, name, api_version or None, kind or None)
    for g in GROUPS:
        module = "api::" + g.replace("/", "::")
        prost_module(module)
        for name, (api_version, kind) in sorted(resources[module].items()):
            roots.append((module, name, None, None))
    for module, name, api_version, kind in EXTRA_KINDS:
        prost_module(module)
        roots.append((module, name, api_version, kind))

    # Closure over message references.
    seen = OrderedDict()
    stack = [(m, n) for m, n, _, _ in roots]
    while stack:
        module, name = stack.pop()
        key = f"{module}::{name}"
        if key in seen:
            continue
        fields = prost_module(module).get(name)
        if fields is None:
            sys.exit(f"no prost struct {key}")
        seen[key] = (module, name)
        if key in SPECIAL:
            continue
        for f in fields:
            f.refs = message_refs(module, f.rust_type)
            stack.extend(f.refs)

    go_cache = {}

    def go_structs(module):
        if module not in go_cache:
            repo_key, directory = go_location(module)
            if repo_key is None:
                sys.exit(f"no Go sources known for {module}")
            repo = args.api if repo_key == "api" else args.apimachinery
            go_cache[module] = parse_go(go_source_files(repo, args.tag, directory))
        return go_cache[module]

    by_file = OrderedDict()
    problems = []
    for key, (module, name) in seen.items():
        if key in SPECIAL:
            continue
        structs, wrappers = go_structs(module)
        go_name = next((s for s in list(structs) + list(wrappers) if norm(s) == norm(name)), None)
        fields = prost_module(module)[name]
        for f in fields:
            f.refs = message_refs(module, f.rust_type)
        if go_name in wrappers:
            if [f.name for f in fields] != ["items"]:
                problems.append(f"{key}: list wrapper without a single items field")
            line = f"list_message!(pb::{name});"
        elif go_name is None:
            problems.append(f"{key}: no Go struct")
            continue
        else:
            go_fields = structs[go_name]
            specs = []
            for f in fields:
                gf = go_fields.get(f.tag)
                if gf is None:
                    problems.append(f"{key}.{f.name}: no Go field with tag {f.tag}")
                    continue
                if gf.proto_name and norm(gf.proto_name) != norm(f.name.removeprefix("r#")):
                    problems.append(f"{key}.{f.name}: Go proto name {gf.proto_name}")
                specs.append(field_spec(module, f, gf, SPECIAL))
            line = f"message!(pb::{name} {{ " + ", ".join(specs) + " });" if specs else f"message!(pb::{name} {{}});"
        file_key = module.replace("api::", "").replace("apimachinery::pkg::apis::meta::v1", "meta::v1")
        by_file.setdefault(file_key, []).append((name, line))
    if problems:
        sys.exit("\n".join(problems))

    header = (
        "//! Generated by `crates/wire/tools/gen_messages.py` from k8s-pb 0.9 and the Go types of\n"
        f"//! kubernetes/api and kubernetes/apimachinery {args.tag}: edit the generator, not this file.\n"
        "//! One line per message: JSON name overrides (`=>`), `keep` where Go's JSON writes a zero\n"
        "//! value (pointer or no `omitempty`), `inline` where Go inlines an embedded struct.\n\n"
    )
    os.makedirs(os.path.join(args.out, "messages"), exist_ok=True)
    mod_lines = []
    for file_key, entries in by_file.items():
        fname = file_key.replace("::", "_")
        mod_lines.append(fname)
        module = "apimachinery::pkg::apis::meta::v1" if file_key == "meta::v1" else "api::" + file_key
        used = sorted({line.split("!")[0] for _, line in entries})
        imports = used[0] if len(used) == 1 else "{" + ", ".join(used) + "}"
        body = header + f"use k8s_pb::{module} as pb;\n\nuse super::super::to_json::{imports};\n\n"
        body += "\n".join(wrap(line) for _, line in sorted(entries)) + "\n"
        with open(os.path.join(args.out, "messages", fname + ".rs"), "w") as f:
            f.write(body)
    with open(os.path.join(args.out, "messages.rs"), "w") as f:
        f.write(
            "//! `ToJson` for every k8s-pb message a supported kind reaches (generated, see\n"
            "//! `crates/wire/tools/gen_messages.py`).\n\n"
            + "".join(f"mod {m};\n" for m in sorted(mod_lines))
        )

    # The kinds table.
    entries = []
    for module, name, api_version, kind in roots:
        path = f"k8s_pb::{module}::{name}"
        if api_version is None:
            entries.append(f"    resource {path},")
        else:
            entries.append(f'    "{api_version}", "{kind}" => {path},')
    with open(os.path.join(args.out, "kinds.rs"), "w") as f:
        f.write(
            "//! The kinds a protobuf body may carry (generated by `crates/wire/tools/gen_messages.py`).\n\n"
            "use super::table::kinds;\n\n"
            "kinds! {\n" + "\n".join(entries) + "\n}\n"
        )


def wrap(line, width=100):
    """Wraps a `message!(...);` line and turns it into a brace invocation, which rustfmt
    leaves as written."""
    return bracify(fold(line, width))


def bracify(text):
    macro, rest = text.split("!(", 1)
    return f"{macro}! {{ " + rest[: -len(");")] + " }"


def fold(line, width):
    if len(line) <= width:
        return line
    head, rest = line.split("{ ", 1)
    rest = rest.rsplit(" });", 1)[0]
    items = rest.split(", ")
    out = [head + "{"]
    cur = "   "
    for it in items:
        piece = " " + it + ","
        if len(cur) + len(piece) > width:
            out.append(cur)
            cur = "   "
        cur += piece
    out.append(cur)
    out.append("});")
    return "\n".join(out)


if __name__ == "__main__":
    main()
