#!/usr/bin/env python3
"""Checks that each committed X.pb.swift carries the current field set of its X.proto.

    .ci/schema-check.py                              # every .proto under Sources/
    .ci/schema-check.py --proto P --generated G      # one pair, e.g. an edited copy of a .proto
    .ci/schema-check.py --list                       # the pairs, "proto<TAB>generated" per line

The generated file of Sources/**/X.proto is the one X.pb.swift under Sources/ (the .proto may sit
in another target than the Swift that is generated from it). protoc (Debian's protobuf-compiler)
builds a descriptor set of the .proto and decodes it with descriptor.proto (libprotobuf-dev). The
generated Swift is then read for what protoc-gen-swift was given: each message's proto name, its
_protobuf_nameMap (field numbers, names, reserved numbers and names), the kind and type that
decodeMessage and traverse use for each field number, and the Swift type of each message or enum
field; each enum's nameMap and init?(rawValue:) cases. Every difference is reported by message and
field, and the exit status is 1.

Why not rebuild the plugin in CI and diff: a release build of protoc-gen-swift took 1 min 56 s
here (2 cores) on top of the project's own build, and a byte diff also fails on a comment or a
plugin's formatting. scripts/regenerate-protos builds it outside CI and writes the files; this
check needs only protoc and takes under a second. A clean pass is trusted only after a copy of the
.proto with one field (and enum value) more has been made to fail (see probe_is_caught).

A construct the reader below does not know (maps, real oneofs, groups, extensions, editions) is
reported as unsupported rather than passed: extend this file when the schema first uses one.
"""

import argparse
import codecs
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REGENERATE_HINT = "regenerate with scripts/regenerate-protos (docs/PROTOCOL.md, section 12)"

# FieldDescriptorProto.Type -> the word SwiftProtobuf puts in decodeSingularXField / visitXField.
SWIFT_FIELD_TYPE = {
    "TYPE_DOUBLE": "Double", "TYPE_FLOAT": "Float", "TYPE_INT64": "Int64", "TYPE_UINT64": "UInt64",
    "TYPE_INT32": "Int32", "TYPE_FIXED64": "Fixed64", "TYPE_FIXED32": "Fixed32", "TYPE_BOOL": "Bool",
    "TYPE_STRING": "String", "TYPE_GROUP": "Group", "TYPE_MESSAGE": "Message", "TYPE_BYTES": "Bytes",
    "TYPE_UINT32": "UInt32", "TYPE_ENUM": "Enum", "TYPE_SFIXED32": "SFixed32",
    "TYPE_SFIXED64": "SFixed64", "TYPE_SINT32": "SInt32", "TYPE_SINT64": "SInt64",
}
NOT_PACKABLE = {"TYPE_STRING", "TYPE_BYTES", "TYPE_MESSAGE", "TYPE_GROUP"}


class Unsupported(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# The schema: protoc's descriptor set, decoded by protoc to text format and read here.

def parse_text_format(text: str) -> dict:
    """protoc --decode prints one field per line: `key: value`, `key {` or `}`."""
    root: dict = {}
    stack = [root]
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line == "}":
            stack.pop()
        elif line.endswith(" {"):
            child: dict = {}
            stack[-1].setdefault(line[:-2], []).append(child)
            stack.append(child)
        else:
            key, _, value = line.partition(": ")
            if value.startswith('"'):
                value = codecs.escape_decode(value[1:-1].encode("utf-8"))[0].decode("utf-8")
            stack[-1].setdefault(key, []).append(value)
    return root


def first(node: dict, key: str, default=None):
    values = node.get(key)
    return values[0] if values else default


def type_prefix(package: str) -> str:
    """SwiftProtobuf's NamingUtils.typePrefix: "leakwatch.v1" -> "Leakwatch_V1_"."""
    if not package:
        return ""
    words = [("".join(part[:1].upper() + part[1:] for part in component.split("_")))
             for component in package.split(".")]
    prefix = "_".join(words)
    return ("_" + prefix if prefix[:1].isdigit() else prefix) + "_"


@dataclass
class SchemaField:
    name: str
    number: int
    repeated: bool
    type: str              # TYPE_INT64, ...
    type_name: str         # ".leakwatch.v1.Stats" for messages and enums, else ""
    has_presence: bool     # a singular message, a proto3 `optional`, a proto2 singular field
    packed: bool

    def describe(self) -> str:
        kind = self.type_name.lstrip(".") if self.type_name else self.type[len("TYPE_"):].lower()
        if self.repeated:
            return f"repeated {kind}"
        return f"optional {kind}" if self.has_presence and self.type != "TYPE_MESSAGE" else kind


@dataclass
class SchemaMessage:
    full_name: str
    swift_name: str
    fields: List[SchemaField]
    reserved_names: List[str]
    reserved_ranges: List[Tuple[int, int]]   # [start, end)


@dataclass
class SchemaEnum:
    full_name: str
    swift_name: str
    values: Dict[int, List[str]]             # number -> names, the first one primary


@dataclass
class Schema:
    file_name: str
    package: str
    syntax: str
    swift_names: Dict[str, str]               # ".pkg.Type" -> its Swift type, imports included
    messages: List[SchemaMessage] = field(default_factory=list)
    enums: List[SchemaEnum] = field(default_factory=list)


def descriptor_proto_dir() -> str:
    for candidate in ("/usr/include", "/usr/local/include"):
        if os.path.exists(os.path.join(candidate, "google/protobuf/descriptor.proto")):
            return candidate
    sys.exit("schema-check: google/protobuf/descriptor.proto is in neither /usr/include nor "
             "/usr/local/include; install it with `apt-get install libprotobuf-dev`")


def load_schema(proto_path: str) -> Schema:
    directory, name = os.path.split(os.path.abspath(proto_path))
    with tempfile.TemporaryDirectory() as scratch:
        descriptor_set = os.path.join(scratch, "schema.desc")
        if subprocess.run(["protoc", "-I", directory, "--include_imports",
                           f"--descriptor_set_out={descriptor_set}", name]).returncode != 0:
            sys.exit(f"schema-check: protoc could not read {proto_path} (its message is above)")
        with open(descriptor_set, "rb") as descriptor_input:
            decoded = subprocess.run(
                ["protoc", "-I", descriptor_proto_dir(), "--decode=google.protobuf.FileDescriptorSet",
                 "google/protobuf/descriptor.proto"],
                stdin=descriptor_input, stdout=subprocess.PIPE, check=True, text=True).stdout
    files = parse_text_format(decoded).get("file", [])
    swift_names: Dict[str, str] = {}
    for file in files:      # the file and its imports: a field's type may be declared in either
        package = first(file, "package", "")
        swift_prefix = first(first(file, "options", {}), "swift_prefix")
        add_swift_names(file, "." + package if package else "",
                        swift_prefix if swift_prefix is not None else type_prefix(package), "", swift_names)
    target = next(f for f in files if first(f, "name") == name)
    schema = Schema(name, first(target, "package", ""), first(target, "syntax", "proto2"), swift_names)
    if schema.syntax not in ("proto2", "proto3"):
        raise Unsupported(f"syntax {schema.syntax!r} ({name})")
    if target.get("extension"):
        raise Unsupported(f"extensions ({name})")
    collect_types(target, "." + schema.package if schema.package else "", schema)
    return schema


def add_swift_names(node: dict, scope: str, prefix: str, swift_scope: str, names: Dict[str, str]):
    """protoc-gen-swift's names: Prefix_Type at the top, Outer.Inner inside a message."""
    for key in ("enum_type", "message_type", "nested_type"):    # a file's messages, a message's
        for declaration in node.get(key, []):
            name = first(declaration, "name")
            names[f"{scope}.{name}"] = f"{swift_scope}.{name}" if swift_scope else prefix + name
            if key != "enum_type":
                add_swift_names(declaration, f"{scope}.{name}", prefix, names[f"{scope}.{name}"], names)


def collect_types(node: dict, scope: str, schema: Schema):
    for enum in node.get("enum_type", []):
        full_name = f"{scope}.{first(enum, 'name')}"
        values: Dict[int, List[str]] = {}
        for value in enum.get("value", []):
            values.setdefault(int(first(value, "number")), []).append(first(value, "name"))
        schema.enums.append(SchemaEnum(full_name[1:], schema.swift_names[full_name], values))
    for message in node.get("message_type", []) + node.get("nested_type", []):
        full_name = f"{scope}.{first(message, 'name')}"
        if first(first(message, "options", {}), "map_entry") == "true":
            raise Unsupported(f"a map field ({full_name[1:]})")
        fields = []
        for f in message.get("field", []):
            field_name, kind = f"{full_name[1:]}.{first(f, 'name')}", first(f, "type")
            proto3_optional = first(f, "proto3_optional") == "true"
            if first(f, "oneof_index") is not None and not proto3_optional:
                raise Unsupported(f"a oneof ({field_name})")
            if kind == "TYPE_GROUP":
                raise Unsupported(f"a group ({field_name})")
            repeated = first(f, "label") == "LABEL_REPEATED"
            packed_option = first(first(f, "options", {}), "packed")
            packed = repeated and kind not in NOT_PACKABLE and (
                packed_option == "true" or (packed_option is None and schema.syntax == "proto3"))
            presence = not repeated and (kind == "TYPE_MESSAGE" or proto3_optional or schema.syntax == "proto2")
            fields.append(SchemaField(first(f, "name"), int(first(f, "number")), repeated, kind,
                                      first(f, "type_name", ""), presence, packed))
        ranges = [(int(first(r, "start")), int(first(r, "end"))) for r in message.get("reserved_range", [])]
        schema.messages.append(SchemaMessage(full_name[1:], schema.swift_names[full_name], fields,
                                             list(message.get("reserved_name", [])), ranges))
        collect_types(message, full_name, schema)


# ---------------------------------------------------------------------------------------------
# The generated Swift, read for what the plugin was given.

def swift_string_literal(body: str) -> str:
    """The value of a Swift string literal's body (what lies between its quotes)."""
    simple = {"0": "\0", "\\": "\\", "t": "\t", "n": "\n", "r": "\r", '"': '"', "'": "'"}
    out, i = [], 0
    while i < len(body):
        if body[i] != "\\":
            out.append(body[i])
            i += 1
        elif body[i + 1] == "u":
            end = body.index("}", i)
            out.append(chr(int(body[i + 3:end], 16)))
            i = end + 1
        else:
            out.append(simple[body[i + 1]])
            i += 2
    return "".join(out)


@dataclass
class NameMap:
    names: Dict[int, List[str]] = field(default_factory=dict)    # number -> proto names
    reserved_names: List[str] = field(default_factory=list)
    reserved_ranges: List[Tuple[int, int]] = field(default_factory=list)


def decode_name_map(bytecode: bytes) -> NameMap:
    """SwiftProtobuf's _NameMap(bytecode:) program (NameMap.swift, BytecodeReader.swift): integers
    are varints with bit 6 as the continuation bit (so the string stays UTF-8), strings end in NUL;
    numbers are deltas from the previous one, and the opcodes ending "Next" mean +1."""
    position = 0

    def integer() -> int:
        nonlocal position
        value, shift = 0, 0
        while True:
            byte = bytecode[position]
            position += 1
            value |= (byte & 0x3F) << shift
            if byte & 0x40 == 0:
                return value
            shift += 6

    def int32() -> int:
        value = integer()
        return value - (1 << 32) if value >= (1 << 31) else value

    def string() -> str:
        nonlocal position
        end = bytecode.index(0, position)
        value = bytecode[position:end].decode("utf-8")
        position = end + 1
        return value

    result = NameMap()
    if integer() != 0:
        raise Unsupported("a _NameMap bytecode format other than 0")
    number = 0
    while position < len(bytecode):
        opcode = integer()
        if opcode in (1, 3, 5, 7, 9):               # sameNext, standardNext, uniqueNext, groupNext, aliasNext
            number += 1
        elif opcode in (2, 4, 6, 8, 10):            # ... the same with an explicit delta
            number += int32()
        if opcode in (1, 2, 3, 4, 7, 8):
            result.names[number] = [string()]
        elif opcode in (5, 6):
            result.names[number] = [string()]
            string()                                  # the JSON name
        elif opcode in (9, 10):
            primary = string()                        # then a counted array of aliases
            result.names[number] = [primary] + [string() for _ in range(integer())]
        elif opcode == 11:
            result.reserved_names.append(string())
        elif opcode == 12:
            low = int32()
            result.reserved_ranges.append((low, low + int32()))
        else:
            raise Unsupported(f"_NameMap opcode {opcode}")
    return result


def find_block(text: str, opening: int) -> str:
    """The text between the `{` at or after `opening` and its matching `}`, skipping comments and
    string literals (a doc comment copied from the .proto may hold braces)."""
    start, end = block_span(text, opening)
    return text[start:end]


def block_span(text: str, opening: int) -> Tuple[int, int]:
    i = text.index("{", opening)
    depth, start = 0, i + 1
    while i < len(text):
        c = text[i]
        if text.startswith("//", i):
            i = text.index("\n", i)
            continue
        if c == '"':
            i += 1
            while text[i] != '"':
                i += 2 if text[i] == "\\" else 1
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return start, i
        i += 1
    raise ValueError("unbalanced braces")


def outer_level(block: str) -> str:
    """`block` without the bodies nested in it: a struct's own declarations, not its nested types'."""
    out, depth, i = [], 0, 0
    while i < len(block):
        if block.startswith("//", i):
            i = block.index("\n", i)
            continue
        c = block[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif depth == 0:
            out.append(c)
        i += 1
    return "".join(out)


DECLARATION = r"^[ \t]*(?:(?:public|package|internal|fileprivate|private|nonisolated|final)\s+)*{kind}\s+{name}\b"


def declaration_block(text: str, kind: str, swift_name: str) -> Optional[str]:
    """The body of `struct A` / `enum A.B` etc., looked up component by component."""
    scope, components = text, swift_name.split(".")
    for index, component in enumerate(components):
        pattern = DECLARATION.format(kind=kind if index == len(components) - 1 else "struct",
                                     name=re.escape(component))
        match = re.search(pattern, scope, re.MULTILINE)
        if match is None:
            return None
        scope = find_block(scope, match.end())
    return scope


@dataclass
class GeneratedField:
    number: int
    decode_kind: str                       # Singular / Repeated
    decode_type: str                       # Int64, Message, Enum, ...
    property_type: Optional[str]           # "[Leakwatch_V1_Frame]", "String?", ...
    visit_kind: Optional[str] = None       # Singular / Repeated / Packed
    visit_type: Optional[str] = None


@dataclass
class GeneratedMessage:
    swift_name: str
    proto_name: str
    name_map: NameMap
    fields: Dict[int, GeneratedField]


@dataclass
class GeneratedFile:
    source: Optional[str]                  # the header's "Source: X.proto"
    package: Optional[str]
    messages: Dict[str, GeneratedMessage]  # by Swift name
    enums: Dict[str, Tuple[NameMap, List[int]]]   # by Swift name: nameMap, init?(rawValue:) cases


NAME_MAP = re.compile(r'static let _protobuf_nameMap(?:: [\w.]+)? = SwiftProtobuf\._NameMap\((?:bytecode: "((?:[^"\\]|\\.)*)")?\)')
DECODE_CASE = re.compile(r"^\s*case ([^:]+):(.*)$", re.MULTILINE)
DECODE_CALL = re.compile(r"^ try \{ try decoder\.decode(Singular|Repeated)(\w+)Field\(value: &(?:self\.|_storage\.)(\w+)\) \}\(\)$")
VISIT_CALL = re.compile(r"visitor\.visit(Singular|Repeated|Packed)(\w+)Field\(value: [^,]+, fieldNumber: (\d+)\)")


def read_name_map(block: str, what: str) -> NameMap:
    match = NAME_MAP.search(block)
    if match is None:
        raise Unsupported(f"this form of _protobuf_nameMap ({what})")
    if match.group(1) is None:
        return NameMap()
    return decode_name_map(swift_string_literal(match.group(1)).encode("utf-8"))


def load_generated(path: str) -> GeneratedFile:
    with open(path, encoding="utf-8") as generated:
        text = generated.read()
    source = re.search(r"^// Source: (.+)$", text, re.MULTILINE)
    package = re.search(r'^fileprivate (?:nonisolated )?let _protobuf_package = "([^"]*)"$', text, re.MULTILINE)
    result = GeneratedFile(source and source.group(1), package and package.group(1), {}, {})
    package_name = result.package or ""

    extension = re.compile(r"^(?:nonisolated )?extension ([\w.]+): ([^{]*)\{", re.MULTILINE)
    for match in extension.finditer(text):
        swift_name, conformances = match.group(1), match.group(2)
        block = find_block(text, match.end() - 1)
        if "SwiftProtobuf.Message" in conformances:
            result.messages[swift_name] = read_message(text, swift_name, block, package_name, result)
        elif "SwiftProtobuf._ProtoNameProviding" in conformances:
            declaration = outer_level(declaration_block(text, "enum", swift_name) or "")
            # An open enum (proto3) maps raw values in init?(rawValue:); a closed one (proto2) is
            # `enum E: Int` with `case a = 0`.
            raw_values = re.findall(r"^\s*case \w+ = (-?\d+)$", declaration, re.MULTILINE)
            if not raw_values:
                initializer = declaration_block(text, "enum", swift_name) or ""
                initializer = initializer[initializer.find("init?(rawValue"):]
                raw_values = re.findall(r"^\s*case (-?\d+): self = \.", initializer, re.MULTILINE)
            cases = [int(n) for n in raw_values]
            result.enums[swift_name] = (read_name_map(block, swift_name), cases)
    return result


def read_message(text: str, swift_name: str, block: str, package: str, file: GeneratedFile) -> GeneratedMessage:
    proto_name = re.search(r"static let protoMessageName: String = (.+)$", block, re.MULTILINE).group(1).strip()
    proto_name = re.sub(r'^_protobuf_package \+ "(.*)"$', lambda m: package + m.group(1), proto_name)
    proto_name = re.sub(r'^([\w.]+)\.protoMessageName \+ "(.*)"$',
                        lambda m: file.messages[m.group(1)].proto_name + m.group(2), proto_name)
    proto_name = re.sub(r'^"(.*)"$', r"\1", proto_name)

    decode = block[block.index("func decodeMessage"):block.index("func traverse")]
    traverse = block[block.index("func traverse"):]
    storage = declaration_block(block, "class", "_StorageClass")
    struct = declaration_block(text, "struct", swift_name)
    if struct is None:
        raise Unsupported(f"this form of struct declaration ({swift_name})")
    own_declarations = outer_level(storage if storage is not None else struct)

    fields: Dict[int, GeneratedField] = {}
    for case in DECODE_CASE.finditer(decode):
        if case.group(1).strip() == "default":
            continue
        call = DECODE_CALL.match(case.group(2))
        if not case.group(1).strip().isdigit() or call is None:
            raise Unsupported(f"this decodeMessage case ({swift_name}: `case {case.group(1)}:{case.group(2)}`)")
        declared = re.search(rf"\bvar {re.escape(call.group(3))}: ([^=\n{{]+?)\s*(?:=|\{{|$)",
                             own_declarations, re.MULTILINE)
        fields[int(case.group(1))] = GeneratedField(int(case.group(1)), call.group(1), call.group(2),
                                                    declared and declared.group(1))
    for visit in VISIT_CALL.finditer(traverse):
        number = int(visit.group(3))
        if number not in fields:
            fields[number] = GeneratedField(number, "", "", None)
        fields[number].visit_kind, fields[number].visit_type = visit.group(1), visit.group(2)
    return GeneratedMessage(swift_name, proto_name, read_name_map(block, swift_name), fields)


# ---------------------------------------------------------------------------------------------
# The comparison.

def compare(schema: Schema, generated: GeneratedFile) -> List[str]:
    problems: List[str] = []
    if generated.source != schema.file_name:
        problems.append(f"the generated file says `Source: {generated.source}`, the schema is {schema.file_name}")
    if (generated.package or "") != schema.package:
        problems.append(f"package is {schema.package!r} in the schema, {generated.package!r} in the generated code")

    expected_messages = {m.swift_name: m for m in schema.messages}
    for swift_name, message in generated.messages.items():
        if swift_name not in expected_messages:
            problems.append(f"message {message.proto_name} ({swift_name}) is in the generated code but not in the schema")
    for message in schema.messages:
        found = generated.messages.get(message.swift_name)
        if found is None:
            problems.append(f"message {message.full_name} is in the schema but not in the generated code "
                            f"(no {message.swift_name})")
            continue
        if found.proto_name != message.full_name:
            problems.append(f"{message.swift_name} says it is {found.proto_name}, the schema calls it {message.full_name}")
        problems += compare_fields(message, found, schema)

    expected_enums = {e.swift_name: e for e in schema.enums}
    for swift_name in generated.enums:
        if swift_name not in expected_enums:
            problems.append(f"enum {swift_name} is in the generated code but not in the schema")
    for enum in schema.enums:
        if enum.swift_name not in generated.enums:
            problems.append(f"enum {enum.full_name} is in the schema but not in the generated code (no {enum.swift_name})")
            continue
        name_map, raw_values = generated.enums[enum.swift_name]
        for number in sorted(set(enum.values) | set(name_map.names) | set(raw_values)):
            schema_names, generated_names = enum.values.get(number), name_map.names.get(number)
            if schema_names is None:
                problems.append(f"enum {enum.full_name}: value {number} {(generated_names or ['?'])[0]} "
                                f"is in the generated code but not in the schema")
            elif generated_names is None or number not in raw_values:
                problems.append(f"enum {enum.full_name}: value {number} {schema_names[0]} "
                                f"is in the schema but not in the generated code")
            elif sorted(schema_names) != sorted(generated_names):
                problems.append(f"enum {enum.full_name}: value {number} is {', '.join(schema_names)} in the schema, "
                                f"{', '.join(generated_names)} in the generated code")
    return problems


def compare_fields(message: SchemaMessage, found: GeneratedMessage, schema: Schema) -> List[str]:
    problems: List[str] = []
    where = f"message {message.full_name}"
    expected = {f.number: f for f in message.fields}
    for number in sorted(set(expected) | set(found.fields) | set(found.name_map.names)):
        f, generated_field = expected.get(number), found.fields.get(number)
        generated_name = (found.name_map.names.get(number) or ["?"])[0]
        if f is None:
            problems.append(f"{where}: field {number} {generated_name} is in the generated code but not in the schema")
            continue
        label = f"{where}: field {number} {f.name} ({f.describe()})"
        missing = [part for part, present in (("_protobuf_nameMap", number in found.name_map.names),
                                              ("decodeMessage", generated_field and generated_field.decode_kind),
                                              ("traverse", generated_field and generated_field.visit_kind))
                   if not present]
        if missing:
            problems.append(f"{label} is in the schema but missing from the generated {', '.join(missing)}")
            continue
        if generated_name != f.name:
            problems.append(f"{label} is named {generated_name} in the generated code")
        swift_type = SWIFT_FIELD_TYPE[f.type]
        decode_kind = "Repeated" if f.repeated else "Singular"
        visit_kind = ("Packed" if f.packed else "Repeated") if f.repeated else "Singular"
        if (generated_field.decode_kind, generated_field.decode_type) != (decode_kind, swift_type):
            problems.append(f"{label}: the generated code decodes a {generated_field.decode_kind} "
                            f"{generated_field.decode_type}, the schema says {decode_kind} {swift_type}")
        if (generated_field.visit_kind, generated_field.visit_type) != (visit_kind, swift_type):
            problems.append(f"{label}: the generated code writes a {generated_field.visit_kind} "
                            f"{generated_field.visit_type}, the schema says {visit_kind} {swift_type}")
        property_type = generated_field.property_type
        if property_type is None:
            problems.append(f"{label}: no stored property found in the generated code")
            continue
        if f.type_name:
            element = property_type.strip("[]?")
            wanted = schema.swift_names.get(f.type_name, f.type_name)
            if element != wanted:
                problems.append(f"{label} holds a {element} in the generated code, the schema says {wanted}")
        if f.repeated != property_type.startswith("["):
            problems.append(f"{label} is {'' if f.repeated else 'not '}repeated in the schema, "
                            f"the generated property is {property_type}")
        elif not f.repeated and f.has_presence != property_type.endswith("?"):
            problems.append(f"{label} {'has' if f.has_presence else 'has no'} presence in the schema, "
                            f"the generated property is {property_type}")

    reserved = (sorted(message.reserved_names), sorted(message.reserved_ranges))
    generated_reserved = (sorted(found.name_map.reserved_names), sorted(found.name_map.reserved_ranges))
    if reserved != generated_reserved:
        problems.append(f"{where}: reserved names and numbers are {reserved} in the schema, "
                        f"{generated_reserved} in the generated code")
    return problems


def discover(repo: str) -> List[Tuple[str, str]]:
    """Each Sources/**/X.proto with the one Sources/**/X.pb.swift generated from it."""
    protos, generated = [], {}
    for directory, subdirectories, files in os.walk(os.path.join(repo, "Sources")):
        subdirectories.sort()
        for name in sorted(files):
            if name.endswith(".proto"):
                protos.append(os.path.join(directory, name))
            elif name.endswith(".pb.swift"):
                generated.setdefault(name, []).append(os.path.join(directory, name))
    pairs = []
    for proto in protos:
        name = os.path.basename(proto)[:-len(".proto")] + ".pb.swift"
        found = generated.pop(name, [])
        if len(found) != 1:
            sys.exit(f"schema-check: {os.path.relpath(proto, repo)} needs exactly one {name} under Sources/, "
                     f"found {len(found)}: {', '.join(os.path.relpath(p, repo) for p in found) or 'none'}")
        pairs.append((proto, found[0]))
    if generated:
        name, paths = next(iter(generated.items()))
        sys.exit(f"schema-check: {os.path.relpath(paths[0], repo)} has no {name[:-len('.pb.swift')]}.proto "
                 f"under Sources/ to check it against")
    if not pairs:
        sys.exit("schema-check: no .proto under Sources/")
    return pairs


# A clean comparison could also come from reading nothing on either side (a new protoc or plugin
# printing something these patterns miss). So each clean run is followed by one that must fail: a
# copy of the .proto with a field added to its first message and a value to its first enum.
PROBE_FIELD, PROBE_VALUE = "schema_check_probe", "SCHEMA_CHECK_PROBE"


def probe_is_caught(proto: str, original: Schema, generated: GeneratedFile) -> Tuple[Optional[str], str]:
    """(None, what was probed) if each probe is reported, and nothing else; else what went wrong."""
    directory = os.path.dirname(os.path.abspath(proto))
    with open(proto, encoding="utf-8") as source:
        text = source.read()
    scope = original.package + "." if original.package else ""
    message = re.search(r"^message (\w+)\s*\{", text, re.MULTILINE)
    enum = re.search(r"^enum (\w+)\s*\{", text, re.MULTILINE)
    if message is None:
        return "the .proto has no top-level message to add a probe field to", ""
    taken = next(m for m in original.messages if m.full_name == scope + message.group(1))
    field_number = next(n for n in range(1, 1 << 29) if not (
        any(f.number == n for f in taken.fields) or 19000 <= n <= 19999 or
        any(low <= n < high for low, high in taken.reserved_ranges)))
    label = "optional " if original.syntax == "proto2" else ""
    insertions = [(block_span(text, message.end() - 1)[1], f"  {label}string {PROBE_FIELD} = {field_number};\n")]
    if enum is not None:
        values = next(e for e in original.enums if e.full_name == scope + enum.group(1)).values
        value_number = max(values) + 1
        insertions.append((block_span(text, enum.end() - 1)[1], f"  {PROBE_VALUE} = {value_number};\n"))
    for offset, insertion in sorted(insertions, reverse=True):
        text = text[:offset] + insertion + text[offset:]
    with tempfile.TemporaryDirectory() as scratch:
        for name in os.listdir(directory):      # the .proto's imports, if it has any
            if name.endswith(".proto"):
                shutil.copy(os.path.join(directory, name), scratch)
        probed = os.path.join(scratch, os.path.basename(proto))
        with open(probed, "w", encoding="utf-8") as copy:
            copy.write(text)
        schema = load_schema(probed)
        problems = compare(schema, generated)
    # (the start of the report each probe must draw, how to name the probe)
    probes = [(f"message {scope}{message.group(1)}: field {field_number} {PROBE_FIELD} ",
               f"field {field_number} {PROBE_FIELD} in {scope}{message.group(1)}")]
    if enum is not None:
        probes.append((f"enum {scope}{enum.group(1)}: value {value_number} {PROBE_VALUE} ",
                       f"value {value_number} {PROBE_VALUE} in {scope}{enum.group(1)}"))
    probed = " and ".join(name for _, name in probes)
    caught = [report for report, _ in probes if any(problem.startswith(report) for problem in problems)]
    if len(caught) != len(probes) or len(problems) != len(probes):
        return (f"a copy of the .proto with {probed} added should have been reported as exactly that, "
                f"but the check reported: {'; '.join(problems) or 'nothing'}"), probed
    return None, probed


def shown_path(path: str) -> str:
    absolute = os.path.abspath(path)
    return os.path.relpath(absolute, REPO) if absolute.startswith(REPO + os.sep) else absolute


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proto", help="a .proto to check instead of discovering them under Sources/")
    parser.add_argument("--generated", help="the .pb.swift generated from --proto")
    parser.add_argument("--list", action="store_true", help="print each proto and its generated file, and exit")
    arguments = parser.parse_args()
    if bool(arguments.proto) != bool(arguments.generated):
        parser.error("--proto and --generated go together")
    pairs = [(arguments.proto, arguments.generated)] if arguments.proto else discover(REPO)
    if arguments.list:
        for proto, generated in pairs:
            print(f"{shown_path(proto)}\t{shown_path(generated)}")
        return 0
    if shutil.which("protoc") is None:
        sys.exit("schema-check: protoc not found; install it with `apt-get install protobuf-compiler`")

    failed = 0
    for proto, generated_path in pairs:
        shown = f"{shown_path(generated_path)} against {shown_path(proto)}"
        try:
            schema, generated = load_schema(proto), load_generated(generated_path)
        except Unsupported as construct:
            failed += 1
            print(f"FAIL {shown}: .ci/schema-check.py cannot read {construct} yet; teach it before the "
                  f"schema uses one", file=sys.stderr)
            continue
        problems = compare(schema, generated)
        if problems:
            failed += 1
            print(f"FAIL {shown}: the generated Swift does not match the schema", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            print(f"  To fix: {REGENERATE_HINT}.", file=sys.stderr)
            continue
        uncaught, probed = probe_is_caught(proto, schema, generated)
        if uncaught is not None:
            failed += 1
            print(f"FAIL {shown}: the check cannot be trusted: {uncaught}", file=sys.stderr)
            continue
        field_count = sum(len(m.fields) for m in schema.messages)
        value_count = sum(sum(len(v) for v in e.values.values()) for e in schema.enums)
        print(f"ok   {shown}: messages {len(schema.messages)}, fields {field_count}, enums {len(schema.enums)}, "
              f"values {value_count} match")
        print(f"     and a copy with {probed} added is caught")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
