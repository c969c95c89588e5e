"""Static wiring of the Nextflow code to the `seqclass` CLI, the params and the nf-core layout.

No Nextflow and no JVM: the .nf and .config sources are read with a small Groovy-aware scanner
(strings, GStrings with nested ${...}, slashy strings and comments) and careful regexes.

(a) every `seqclass <step>` in a module's script:/stub: block is a CLI step, and every --flag on
    that command line (or in the `def` it interpolates) and in the ext.args of the module's
    withName: blocks in conf/modules.config (its aliases' included) is an option of that step;
(b) every params.<name> used in *.nf, conf/*.config and nextflow.config is defined in
    nextflow.config's params { } block and in nextflow_schema.json, the two define the same set,
    and profile configs set only defined params;
(c) every process has a stub: block, an output emitted as `versions`, an emit: on every output,
    a label and no literal cpus/memory/time, and no params.* in its body;
(d) every module folder has main.nf, meta.yml and tests/main.nf.test.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

from seqclass.cli import make_parser

REPO = Path(__file__).resolve().parents[1]
MODULES = sorted((REPO / "modules" / "local").glob("*/main.nf"))
SKIP_DIRS = {".venv", "work", ".nextflow", "node_modules", "results", "demo_out", ".git", "tests"}
LABELS = ("input", "output", "when", "script", "shell", "exec", "stub")
QUALIFIERS = ("tuple", "path", "val", "file", "env", "stdout", "stdin", "eval", "each")
FLAG = re.compile(r"(?<![\w-])--([A-Za-z][\w-]*)")


# ---------------------------------------------------------------- Groovy-aware scanning

@dataclass
class Source:
    """A file's text in two views of the same length (offsets agree): `text` with comments
    blanked, `code` with comments and the contents of string literals blanked too."""
    path: Path
    raw: str
    text: str
    code: str

    def line_of(self, offset: int) -> int:
        return self.raw.count("\n", 0, offset) + 1

    def where(self, offset: int) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line_of(offset)}"


_SLASHY_BEFORE = set("=(,~[{:!&|?;+")


def scan(path: Path) -> Source:
    raw = path.read_text(encoding="utf-8")
    text, code = list(raw), list(raw)
    n = len(raw)

    def blank(view, a, b):
        for k in range(a, b):
            if view[k] != "\n":
                view[k] = " "

    # stack of contexts: ("code", brace depth) inside ${...}, or a string kind
    i = 0
    stack: list[list] = [["code", 0]]
    while i < n:
        kind = stack[-1][0]
        c = raw[i]
        if kind == "code":
            if raw.startswith("//", i):
                j = raw.find("\n", i)
                j = n if j < 0 else j
                blank(text, i, j), blank(code, i, j)
                i = j
                continue
            if raw.startswith("/*", i):
                j = raw.find("*/", i + 2)
                j = n if j < 0 else j + 2
                blank(text, i, j), blank(code, i, j)
                i = j
                continue
            for quote in ('"""', "'''", '"', "'"):
                if raw.startswith(quote, i):
                    stack.append([quote, i + len(quote)])
                    i += len(quote)
                    break
            else:
                if c == "/":
                    k = i - 1
                    while k >= 0 and raw[k] in " \t":
                        k -= 1
                    prev = raw[k] if k >= 0 else "("
                    if prev in _SLASHY_BEFORE or raw[max(0, k - 5):k + 1].endswith("return"):
                        stack.append(["/", i + 1])
                        i += 1
                        continue
                elif c == "{":
                    stack[-1][1] += 1
                elif c == "}":
                    if stack[-1][1] == 0 and len(stack) > 1:  # end of ${...} inside a GString
                        stack.pop()
                        stack[-1][1] = i + 1  # the string's contents resume here
                        i += 1
                        continue
                    stack[-1][1] -= 1
                i += 1
            continue
        # inside a string literal: kind is its delimiter
        start = stack[-1][1]
        if c == "\\":
            i += 2
            continue
        if kind in ('"""', '"', "/") and raw.startswith("${", i):
            blank(code, start, i)
            stack.append(["code", 0])
            i += 2
            continue
        if raw.startswith(kind, i):
            blank(code, start, i)
            stack.pop()
            i += len(kind)
            continue
        if c == "\n" and kind in ('"', "'"):
            stack.pop()  # unterminated: give up on this literal
        i += 1
    return Source(path=path, raw=raw, text="".join(text), code="".join(code))


def matching_brace(src: Source, open_at: int) -> int:
    """Offset of the `}` closing the `{` at open_at (braces in strings and comments ignored)."""
    depth = 0
    for k in range(open_at, len(src.code)):
        if src.code[k] == "{":
            depth += 1
        elif src.code[k] == "}":
            depth -= 1
            if depth == 0:
                return k
    raise AssertionError(f"{src.where(open_at)}: unbalanced braces")


# ---------------------------------------------------------------- processes

@dataclass
class Process:
    name: str
    src: Source
    start: int  # offset of the body's first character
    end: int    # offset of its closing brace
    sections: dict[str, tuple[int, int]] = field(default_factory=dict)  # label -> (start, end)

    def text(self, section: str) -> str:
        a, b = self.sections[section]
        return self.src.text[a:b]

    def code(self, section: str) -> str:
        a, b = self.sections[section]
        return self.src.code[a:b]

    def where(self, section: str | None = None) -> str:
        return self.src.where(self.sections[section][0] if section else self.start)


def processes_in(path: Path) -> list[Process]:
    src = scan(path)
    found = []
    for m in re.finditer(r"(?m)^[ \t]*process\s+(\w+)\s*\{", src.code):
        open_at = m.end() - 1
        proc = Process(m.group(1), src, open_at + 1, matching_brace(src, open_at))
        body = src.code[proc.start:proc.end]
        marks = [(lm.group(1), proc.start + lm.start(), proc.start + lm.end())
                 for lm in re.finditer(rf"(?m)^[ \t]*({'|'.join(LABELS)})[ \t]*:[ \t]*$", body)]
        first = marks[0][1] if marks else proc.end
        proc.sections["directives"] = (proc.start, first)
        for k, (label, _, after) in enumerate(marks):
            proc.sections[label] = (after, marks[k + 1][1] if k + 1 < len(marks) else proc.end)
        found.append(proc)
    return found


def config_time_params() -> dict[str, str]:
    """name -> file:line of every param a config reads with params.get('name'): the ones read
    while the config is parsed, which nextflow.config must leave without a default (it says why)."""
    out: dict[str, str] = {}
    for path in config_files():
        src = scan(path)
        for m in re.finditer(r"(?<![\w.])params\.get\(\s*'(\w+)'\s*\)", src.text):
            out.setdefault(m.group(1), src.where(m.start()))
    return out


@cache
def module_processes() -> dict[str, Process]:
    out = {}
    for path in MODULES:
        procs = processes_in(path)
        assert len(procs) == 1, \
            f"{path.relative_to(REPO)}: expected one process, found {[p.name for p in procs]}"
        out[procs[0].name] = procs[0]
    return out


def declarations(proc: Process, section: str) -> list[tuple[int, str]]:
    """(offset, text) of each declaration of an input:/output: section, continuation lines joined."""
    if section not in proc.sections:
        return []
    a, _ = proc.sections[section]
    decls: list[list] = []
    offset = a
    for line in proc.text(section).splitlines(keepends=True):
        stripped = line.strip()
        if re.match(rf"({'|'.join(QUALIFIERS)})\b", stripped):
            decls.append([offset + len(line) - len(line.lstrip()), stripped])
        elif stripped and decls:
            decls[-1][1] += " " + stripped
        offset += len(line)
    return [(o, t) for o, t in decls]


# ---------------------------------------------------------------- the CLI

@cache
def cli_options() -> dict[str, set[str]]:
    """step -> its long options (without the leading --)."""
    parser = make_parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {name: {s[2:] for act in sub._actions for s in act.option_strings if s.startswith("--")}
            for name, sub in subs.choices.items()}


def command_lines(proc: Process, section: str) -> list[tuple[str, str, str]]:
    """(step, flags text, file:line) of each `seqclass <step>` command in a section: the rest of
    its logical line (backslash continuations joined) plus the text of every `def` the line
    interpolates, e.g. the report module's `flags`."""
    text = proc.text(section)
    base = proc.sections[section][0]
    defs = {m.group(1): m.group(2) for m in re.finditer(
        r'(?ms)^[ \t]*def\s+(\w+)\s*=(.*?)(?=^[ \t]*def\s|^[ \t]*"""|^[ \t]*\'\'\'|\Z)', text)}
    out = []
    for m in re.finditer(r"(?<![\w/.-])seqclass[ \t]+([A-Za-z][\w-]*)", text):
        end = m.end()
        while True:  # the logical line: up to a newline not escaped by a trailing backslash
            nl = text.find("\n", end)
            if nl < 0:
                end = len(text)
                break
            end = nl + 1
            if not text[:nl].rstrip(" \t").endswith("\\"):
                break
        rest = re.sub(r"\\{1,2}[ \t]*\n", " ", text[m.end():end])
        extra, seen = [], set()
        todo = re.findall(r"\$\{?\s*(\w+)", rest)
        while todo:
            name = todo.pop()
            if name in defs and name not in seen:
                seen.add(name)
                extra.append(defs[name])
                todo += re.findall(r"\$\{?\s*(\w+)", defs[name])
        out.append((m.group(1), rest + " " + " ".join(extra), proc.src.where(base + m.start())))
    return out


# ---------------------------------------------------------------- configs and params

def config_files() -> list[Path]:
    return [REPO / "nextflow.config", *sorted((REPO / "conf").glob("*.config"))]


def nf_files() -> list[Path]:
    return sorted(p for p in REPO.rglob("*.nf")
                  if not SKIP_DIRS & set(p.relative_to(REPO).parts[:-1]))


def params_blocks(src: Source) -> list[tuple[int, int]]:
    return [(m.end(), matching_brace(src, m.end() - 1))
            for m in re.finditer(r"(?m)^[ \t]*params\s*\{", src.code)]


def defined_params(path: Path) -> dict[str, int]:
    """name -> offset of every param a config defines: params { name = ... } and params.name = ..."""
    src = scan(path)
    out: dict[str, int] = {}
    for a, b in params_blocks(src):
        depth = 0
        offset = a
        for line in src.code[a:b].splitlines(keepends=True):
            m = re.match(r"[ \t]*([A-Za-z_]\w*)\s*=(?!=)", line)
            if m and depth == 0:
                out.setdefault(m.group(1), offset + m.start(1))
            depth += line.count("{") + line.count("[") + line.count("(") \
                - line.count("}") - line.count("]") - line.count(")")
            offset += len(line)
    for m in re.finditer(r"(?m)^[ \t]*params\.([A-Za-z_]\w*)\s*=(?!=)", src.code):
        out.setdefault(m.group(1), m.start(1))
    return out


def referenced_params(path: Path) -> list[tuple[str, str]]:
    """(name, file:line) of every params.<name> read in a file (method calls on params excluded)."""
    src = scan(path)
    return [(m.group(1), src.where(m.start()))
            for m in re.finditer(r"(?<![\w.])params\.([A-Za-z_]\w*)\b(?!\s*\()", src.text)]


@cache
def schema() -> dict:
    return json.loads((REPO / "nextflow_schema.json").read_text())


def schema_params() -> dict[str, str]:
    """param -> the schema group that defines it."""
    doc = schema()
    out = {name: "properties" for name in doc.get("properties", {})}
    for group, body in (doc.get("$defs") or doc.get("definitions") or {}).items():
        for name in body.get("properties", {}):
            out.setdefault(name, group)
    return out


# ---------------------------------------------------------------- (a) CLI

def _module_ids():
    return [p.parent.name for p in MODULES]


def test_modules_were_found():
    assert MODULES, "no modules/local/*/main.nf"
    assert "SEQCLASS_BUILD" in module_processes()


@pytest.mark.parametrize("module", _module_ids())
def test_module_commands_use_existing_steps_and_flags(module):
    proc = processes_in(REPO / "modules" / "local" / module / "main.nf")[0]
    options = cli_options()
    problems = []
    for section in ("script", "stub"):
        if section not in proc.sections:
            continue
        for step, rest, where in command_lines(proc, section):
            if step not in options:
                problems.append(f"{where}: process {proc.name} {section}: `seqclass {step}` "
                                f"is not a CLI step (steps: {sorted(options)})")
                continue
            for flag in sorted(set(FLAG.findall(rest)) - options[step]):
                problems.append(f"{where}: process {proc.name} {section}: `seqclass {step}` "
                                f"has no option --{flag}")
    if proc.name.startswith("SEQCLASS_"):
        steps = [step for step, _, _ in command_lines(proc, "script")] if "script" in proc.sections else []
        want = proc.name.removeprefix("SEQCLASS_").lower()
        assert want in steps, f"{proc.where('script')}: process {proc.name}'s script does not run " \
                              f"`seqclass {want}` (runs {steps})"
    assert not problems, "\n".join(problems)


@cache
def process_aliases() -> dict[str, str]:
    """alias -> module process, from every `include { NAME as ALIAS }` of the pipeline's .nf files
    (an aliased process has its own withName: blocks)."""
    aliases = {}
    for path in nf_files():
        for block in re.finditer(r"include\s*\{([^}]*)\}", scan(path).code):
            for m in re.finditer(r"\b(\w+)\s+as\s+(\w+)", block.group(1)):
                aliases[m.group(2)] = m.group(1)
    return aliases


def withname_blocks() -> list[tuple[str, str, str]]:
    """(selector, block text, file:line) of each withName: block of conf/modules.config."""
    src = scan(REPO / "conf" / "modules.config")
    out = []
    for m in re.finditer(r"withName\s*:\s*(['\"])(.+?)\1\s*\{", src.text):
        close = matching_brace(src, m.end() - 1)
        out.append((m.group(2), src.text[m.end():close], src.where(m.start())))
    return out


def test_process_aliases_name_module_processes():
    procs = module_processes()
    unknown = {alias: name for alias, name in process_aliases().items() if name not in procs}
    assert not unknown, f"include {{ NAME as ALIAS }} of processes that no module defines: {unknown}"


def test_modules_config_selectors_name_existing_processes():
    names = set(module_processes()) | set(process_aliases())
    problems = []
    for selector, _, where in withname_blocks():
        pattern = selector.removeprefix("!")
        if not any(re.fullmatch(pattern, name) for name in names):
            problems.append(f"{where}: withName: '{selector}' matches no process "
                            f"(processes: {sorted(names)})")
    assert not problems, "\n".join(problems)


def test_modules_config_ext_args_flags_exist_for_the_step():
    options = cli_options()
    procs = module_processes()
    # a process name (module or alias) -> the module process it runs
    names = {**{name: name for name in procs}, **process_aliases()}
    problems = []
    for selector, block, where in withname_blocks():
        if not re.search(r"\bext\.args\s*=", block):
            continue
        for name in sorted({names[n] for n in names if re.fullmatch(selector.removeprefix("!"), n)}):
            if not name.startswith("SEQCLASS_"):
                continue  # third-party tool (MultiQC): its flags are not ours to check
            step = name.removeprefix("SEQCLASS_").lower()
            if step not in options:
                problems.append(f"{where}: withName: '{selector}' → `seqclass {step}` is not a CLI step")
                continue
            args_steps = [s for s, rest, _ in command_lines(procs[name], "script") if "args" in
                          re.findall(r"\$\{?\s*(\w+)", rest)]
            if step not in args_steps:
                problems.append(f"{procs[name].where('script')}: process {name} never passes ${{args}} "
                                f"(task.ext.args) to `seqclass {step}`")
            for flag in FLAG.findall(block):
                if flag not in options[step]:
                    problems.append(f"{where}: withName: '{selector}' ext.args passes --{flag}, which "
                                    f"`seqclass {step}` does not have")
    assert not problems, "\n".join(problems)


# A param that sets a `seqclass` flag is named as the flag (`kmer_size` → --kmer-size), or
# `<step>_<flag>` where the flag alone would be ambiguous across steps (`predict_window` →
# predict's --window); an alias of a module process names its own variant the same way
# (SEQCLASS_CHUNK_SHORT: `short_window` → --window). docs/usage.md, "Parameters".
# (step, param) -> why the param is named otherwise. Keep this short: a new param follows the rule.
PARAM_NAMING_EXCEPTIONS = {
    ("evaluate", "eval_split"): "`eval_` has been evaluate's prefix since the first release; a rename "
                                "to evaluate_split would buy four letters for a deprecation cycle",
    ("evaluate", "eval_level"): "as eval_split",
    ("interpret", "predict_window"): "interpret scores with predict's windows, so that its "
                                     "probabilities are predict's: one param sets both steps",
    ("interpret", "predict_stride"): "as predict_window",
}


def deprecated_params() -> dict[str, str]:
    """deprecated param -> the param that replaces it: `deprecated: true` in the schema, and its
    description names the new one ("use --lr"), as utils_seqclass_pipeline reads it."""
    out = {}
    for group in schema()["$defs"].values():
        for name, prop in group.get("properties", {}).items():
            if prop.get("deprecated"):
                m = re.search(r"use --(\w+)", prop.get("description", ""))
                out[name] = m.group(1) if m else ""
    return out


def ext_args_elements() -> list[tuple[str, str, str]]:
    """(withName selector, element text, file:line) of each option that conf/modules.config's
    ext.args closures put together: the items of the closure's list, or its whole body."""
    src = scan(REPO / "conf" / "modules.config")
    out = []
    for m in re.finditer(r"withName\s*:\s*(['\"])(.+?)\1\s*\{", src.text):
        close = matching_brace(src, m.end() - 1)
        for a in re.finditer(r"\bext\.args\s*=\s*\{", src.code[m.end():close]):
            open_at = m.end() + a.end() - 1
            end = matching_brace(src, open_at)
            body = src.code[open_at + 1:end]
            lst = re.match(r"\s*\[", body)
            if lst:  # split the list at its own commas (strings are blanked in the code view)
                start = open_at + 1 + lst.end()
                depth, pieces, k = 0, [], start
                for j in range(start, end):
                    c = src.code[j]
                    if c in "([{":
                        depth += 1
                    elif c in ")]}":
                        if depth == 0:
                            pieces.append((k, j))
                            break
                        depth -= 1
                    elif c == "," and depth == 0:
                        pieces.append((k, j))
                        k = j + 1
            else:
                pieces = [(open_at + 1, end)]
            for a_, b_ in pieces:
                element = src.text[a_:b_]
                if element.strip():
                    out.append((m.group(2), element, src.where(a_ + len(element) - len(element.lstrip()))))
    return out


def param_naming_problems(names: set[str], step: str, element: str) -> list[str]:
    """What breaks the naming rule in one ext.args element of a process known by `names` (the
    module step, and an alias's own word: {"chunk", "short"}) running `seqclass <step>`."""
    flags = {f.replace("-", "_") for f in FLAG.findall(element)}
    if not flags:
        return []  # passed whole (train_args, pretrain_args): no flag of its own
    renamed = deprecated_params()
    problems = []
    for param in dict.fromkeys(re.findall(r"(?<![\w.])params\.(\w+)\b(?!\s*\()", element)):
        if (step, param) in PARAM_NAMING_EXCEPTIONS:
            continue
        name = renamed.get(param) or param  # a deprecated name sets its replacement's flag
        ok = {name} | {name.removeprefix(f"{prefix}_") for prefix in names if name.startswith(f"{prefix}_")}
        if not ok & flags:
            wanted = " or ".join(sorted(f"--{f.replace('_', '-')}" for f in flags))
            problems.append(f"params.{param} sets {wanted}: name it after the flag, or "
                            f"<step>_<flag> with step one of {sorted(names)}")
    return problems


def test_params_are_named_like_the_flags_they_set():
    procs = module_processes()
    names = {**{name: name for name in procs}, **process_aliases()}
    problems, used = [], set()
    for selector, element, where in ext_args_elements():
        for process in sorted(n for n in names if re.fullmatch(selector.removeprefix("!"), n)):
            module = names[process]
            if not module.startswith("SEQCLASS_"):
                continue  # third-party tool (MultiQC): its flags are not ours to name
            step = module.removeprefix("SEQCLASS_").lower()
            own = process.removeprefix(module).strip("_").lower()  # SEQCLASS_CHUNK_SHORT → short
            used |= {(step, p) for p in re.findall(r"params\.(\w+)", element)}
            problems += [f"{where} ({process}): {problem}"
                         for problem in param_naming_problems({step, own} - {""}, step, element)]
    stale = sorted(set(PARAM_NAMING_EXCEPTIONS) - used)
    assert not stale, f"PARAM_NAMING_EXCEPTIONS name params that no longer set that step's flags: {stale}"
    assert not problems, "\n".join(sorted(set(problems)))


@pytest.mark.parametrize(("element", "expected"), [
    ("params.lr != null ? \"--lr ${params.lr}\" : ''", []),
    ("params.train_epochs != null ? \"--epochs ${params.train_epochs}\" : ''", []),
    ("params.predict_window != null ? \"--window ${params.predict_window}\" : ''", ["params.predict_window"]),
    ("params.learning_rate != null ? \"--lr ${params.learning_rate}\" : ''", []),  # deprecated: lr
    ("params.rate != null ? \"--lr ${params.rate}\" : ''", ["params.rate sets --lr"]),
    ("params.chunk_window != null ? \"--window ${params.chunk_window}\" : ''", ["params.chunk_window"]),
    ("params.window != null ? \"--stride ${params.window}\" : ''", ["params.window sets --stride"]),
    ("params.train_args ?: ''", []),
])
def test_param_naming_rule_itself(element, expected):
    """The checker of the rule on single elements, as a train task sees them."""
    problems = param_naming_problems({"train"}, "train", element)
    assert len(problems) == len(expected), problems
    assert all(p.startswith(e) for p, e in zip(problems, expected)), problems


def test_deprecated_params_name_their_replacement():
    """A renamed param keeps its old name for one release: hidden, `deprecated: true`, its
    description saying `use --<new name>` (the pipeline's warning and its check that not both
    are given read it from there), and conf/modules.config passing it as the new one's flag."""
    doc = schema()
    props = {name: prop for group in doc["$defs"].values()
             for name, prop in group.get("properties", {}).items()}
    renamed = deprecated_params()
    assert renamed.get("learning_rate") == "lr"
    modules_config = scan(REPO / "conf" / "modules.config").text
    for old, new in renamed.items():
        assert new in props and not props[new].get("deprecated"), \
            f"{old}: its replacement --{new} is not a live param"
        assert props[old].get("hidden"), f"{old}: a deprecated param is hidden from --help"
        assert props[old].get("type") == props[new].get("type"), f"{old} and {new} take different types"
        flag = new.replace("_", "-")
        assert re.search(rf"params\.{old}\b[^\n]*--{flag}\b", modules_config), \
            f"conf/modules.config does not pass params.{old} as --{flag}"


# ---------------------------------------------------------------- (b) params

def test_params_used_are_defined_in_nextflow_config_and_schema():
    defined = {**defined_params(REPO / "nextflow.config"), **config_time_params()}
    in_schema = schema_params()
    problems = []
    for path in [*nf_files(), *config_files()]:
        for name, where in referenced_params(path):
            if name not in defined:
                problems.append(f"{where}: params.{name} is not defined in nextflow.config params {{}}")
            if name not in in_schema:
                problems.append(f"{where}: params.{name} is not in nextflow_schema.json")
    problems = sorted(set(problems))
    assert not problems, "\n".join(problems)


def test_config_time_params_have_no_default_in_nextflow_config():
    """A default in nextflow.config would hide the command line's value from the config under
    the strict parser (nextflow-io/nextflow#6363): the params read with params.get have none."""
    defined = defined_params(REPO / "nextflow.config")
    config_time = config_time_params()
    assert {"outdir", "awsqueue", "awsqueue_gpu", "awsregion", "awscli"} <= set(config_time)
    assert not [f"{where}: params.{name} is read with params.get but nextflow.config defines it"
                for name, where in config_time.items() if name in defined]


def test_nextflow_config_params_and_schema_agree():
    defined = {**defined_params(REPO / "nextflow.config"), **config_time_params()}
    in_schema = schema_params()
    assert defined, "nextflow.config defines no params { } block"
    problems = [f"nextflow.config: params.{name} is not in nextflow_schema.json"
                for name in sorted(set(defined) - set(in_schema))]
    problems += [f"nextflow_schema.json ($defs.{group}): {name} is not a param in nextflow.config"
                 for name, group in sorted(in_schema.items()) if name not in defined]
    assert not problems, "\n".join(problems)


def test_schema_groups_are_all_referenced():
    doc = schema()
    groups = set(doc.get("$defs") or doc.get("definitions") or {})
    refs = {ref["$ref"].rsplit("/", 1)[-1] for ref in doc.get("allOf", []) if "$ref" in ref}
    assert groups <= refs, f"nextflow_schema.json: $defs groups not in allOf (never validated): " \
                           f"{sorted(groups - refs)}"


def test_profile_configs_set_only_defined_params():
    defined = defined_params(REPO / "nextflow.config")
    problems = []
    for path in config_files()[1:]:
        src = scan(path)
        for name, offset in defined_params(path).items():
            if name not in defined:
                problems.append(f"{src.where(offset)}: sets params.{name}, which nextflow.config "
                                f"does not define")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- (c) process conventions

@pytest.mark.parametrize("module", _module_ids())
def test_process_conventions(module):
    proc = processes_in(REPO / "modules" / "local" / module / "main.nf")[0]
    where = proc.where()
    problems = []
    for section in ("input", "output", "script", "stub"):
        if section not in proc.sections:
            problems.append(f"{where}: process {proc.name} has no {section}: block")
    outputs = declarations(proc, "output")
    emits = []
    for offset, decl in outputs:
        m = re.search(r"\bemit\s*:\s*(\w+)", decl)
        if not m:
            problems.append(f"{proc.src.where(offset)}: process {proc.name} output has no emit: ({decl})")
        else:
            emits.append(m.group(1))
    dupes = sorted({e for e in emits if emits.count(e) > 1})
    if dupes:
        problems.append(f"{where}: process {proc.name} emits {dupes} more than once")
    versions = [d for _, d in outputs if re.search(r"\bemit\s*:\s*versions\b", d)]
    if not versions:
        problems.append(f"{where}: process {proc.name} has no output with emit: versions")
    elif not all(re.match(r"path\s*\(?\s*['\"]versions\.yml['\"]", d) for d in versions):
        problems.append(f"{where}: process {proc.name} emit: versions is not path 'versions.yml': {versions}")
    directives = proc.code("directives")
    if not re.search(r"(?m)^[ \t]*label\s*\(?\s*['\"]", directives):
        problems.append(f"{where}: process {proc.name} has no label (resources come from labels)")
    for m in re.finditer(r"(?m)^[ \t]*(cpus|memory|time)\b", directives):
        problems.append(f"{proc.src.where(proc.start + m.start())}: process {proc.name} sets {m.group(1)} "
                        f"itself; resources belong to its label in conf/base.config")
    for m in re.finditer(r"(?<![\w.])params\.(\w+)", proc.src.text[proc.start:proc.end]):
        problems.append(f"{proc.src.where(proc.start + m.start())}: process {proc.name} reads "
                        f"params.{m.group(1)}; pass it as an input or through ext.args")
    assert not problems, "\n".join(problems)


def test_all_processes_in_all_nf_files_have_stub_and_versions():
    """Processes outside modules/local (none today) follow the same two rules."""
    problems = []
    for path in nf_files():
        for proc in processes_in(path):
            if "stub" not in proc.sections:
                problems.append(f"{proc.where()}: process {proc.name} has no stub: block")
            if not any(re.search(r"\bemit\s*:\s*versions\b", d) for _, d in declarations(proc, "output")):
                problems.append(f"{proc.where()}: process {proc.name} has no output with emit: versions")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- (d) module layout

@pytest.mark.parametrize("module", _module_ids())
def test_module_folder_layout(module):
    folder = REPO / "modules" / "local" / module
    missing = [name for name in ("main.nf", "meta.yml", "tests/main.nf.test")
               if not (folder / name).is_file()]
    assert not missing, f"modules/local/{module}: missing {', '.join(missing)}"


def test_version_is_written_in_one_place():
    """VERSION is the one place: pyproject.toml reads it for the package (and seqclass.__version__
    is the installed package's), nextflow.config reads it into manifest.version, the tag of the
    images the modules ask for. No other file of the project writes a version of its own."""
    import seqclass

    version = (REPO / "VERSION").read_text().strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+([.-]?\w+)*", version), f"VERSION: {version!r}"
    assert seqclass.__version__ == version, \
        f"seqclass.__version__ {seqclass.__version__} is not VERSION {version}: reinstall the package " \
        f"(pip install -e . --no-deps) after changing VERSION"
    pyproject = (REPO / "pyproject.toml").read_text()
    assert re.search(r'(?m)^version\s*=\s*\{\s*file\s*=\s*"VERSION"\s*\}', pyproject)
    assert not re.search(r'(?m)^version\s*=\s*"', pyproject), "pyproject.toml writes a version"
    config = scan(REPO / "nextflow.config").text
    assert re.search(r"(?m)^manifest\.version\s*=.*'VERSION'", config), "nextflow.config: manifest.version"
    assert not re.search(r"(?m)^\s*version\s*=\s*['\"]", config), "nextflow.config writes a version"
    init = (REPO / "src" / "seqclass" / "__init__.py").read_text()
    assert not re.search(r"__version__\s*=\s*['\"]", init), "seqclass/__init__.py writes a version"
    for path in [*nf_files(), *config_files()]:
        for m in re.finditer(r"ghcr\.io/seqclass/[\w-]+:([^\s'\"]+)", scan(path).text):
            assert m.group(1) == "${workflow.manifest.version}", \
                f"{path.relative_to(REPO)}: image tag {m.group(1)} is not the pipeline's version"


def test_images_install_the_version_file():
    """pip builds the package in the images from pyproject.toml, which reads VERSION."""
    for dockerfile in ("Dockerfile", "Dockerfile.cuda"):
        copies = " ".join(re.findall(r"(?m)^COPY (.*)$", (REPO / "containers" / dockerfile).read_text()))
        assert re.search(r"(?<![\w/])VERSION\b", copies), f"containers/{dockerfile} does not COPY VERSION"


def test_images_and_conda_hold_every_family_the_schema_offers():
    """--family hf and hf-embed need transformers: the images install the extras of every family
    in the schema's enum, and the conda environment has their packages."""
    families = schema()["$defs"]["train_options"]["properties"]["family"]["enum"]
    needs = {"hf": "hf", "hf-embed": "hf", **{f: "deep" for f in ("cnn", "bilstm", "embedding-bag",
                                                                   "transformer", "awd-lstm")}}
    extras = {needs[f] for f in families if f in needs}
    for dockerfile in ("Dockerfile", "Dockerfile.cuda"):
        text = (REPO / "containers" / dockerfile).read_text()
        installed = set(re.search(r"'\.\[([\w,]+)\]'", text).group(1).split(","))
        assert extras <= installed, f"containers/{dockerfile} installs [{','.join(sorted(installed))}]"
        assert "-c constraints.txt" in text, f"containers/{dockerfile} ignores the pinned versions"
    conda = (REPO / "containers" / "environment.yml").read_text()
    assert "transformers" in conda and "pytorch" in conda
