"""Code navigation: the symbol and occurrence tables, resolution through scopes and imports,
incremental updates, access and bad input."""

from __future__ import annotations

import pytest

from codeindex import services
from codeindex.access import PUBLIC, RepositoryAccess
from codeindex.exceptions import FileNotIndexed, InvalidArgument, RepositoryNotFound, SymbolNotFound
from codeindex.models import Occurrence, Repository, Symbol
from codeindex.symbols.extract import extract_symbols
from codeindex.symbols.tags import run_tags

from .conftest import run_data_migration, write_tree

pytestmark = pytest.mark.django_db

PY_A = "def foo(x):\n    return x + 1\n"
PY_B = "def foo(x):\n    return x * 2\n"
PY_USER = """from pkg.a import foo
import pkg.b as other


class Runner:
    def run(self, value):
        first = foo(value)
        return self.finish(first) + other.foo(value)

    def finish(self, value):
        foo = 3  # a local that shadows nothing outside
        return value + foo
"""


@pytest.fixture
def shop(tmp_path):
    root = write_tree(tmp_path / "shop", {
        "pkg/__init__.py": "from .a import foo as exported_foo\n",
        "pkg/a.py": PY_A,
        "pkg/b.py": PY_B,
        "pkg/user.py": PY_USER,
        "web/util.ts": "export function helper(n: number): number {\n  return n;\n}\nexport class Box {\n  open(): void {}\n}\n",
        "web/main.ts": "import { helper as h } from './util';\nimport * as util from './util';\n\nexport function go() {\n  const b = new util.Box();\n  return h(1) + util.helper(2);\n}\n",
        "srv/lib/a.go": "package lib\n\nfunc Add(a, b int) int { return a + b }\n",
        "srv/lib/b.go": "package lib\n\nfunc Twice(a int) int { return Add(a, a) }\n",
        "srv/main.go": 'package main\n\nimport "example.com/srv/lib"\n\nfunc main() { lib.Add(1, 2) }\n',
    })
    services.index_repository(root, "shop")
    return root


def refs(answer) -> list[tuple[str, int]]:
    return [(f.path, r.line) for f in answer.files for r in f.references]


def test_tags_queries_load_for_every_language():
    samples = {
        "python": "def f():\n    g()\n", "javascript": "function f() { g(); }\n", "typescript": "interface I {}\nfunction f() { g(); }\n",
        "go": "package p\nfunc F() { G() }\n", "rust": "fn f() { g(); }\n", "java": "class A { void f() { g(); } }\n",
        "c": "int f(void) { return g(); }\n", "cpp": "class A {}; int f() { return g(); }\n",
        "csharp": "class A { void F() { b.G(); } }\n", "ruby": "def f\n  g(1)\nend\n", "php": "<?php function f() { $x->g(); }\n",
    }
    for language, text in samples.items():
        roles = {(t.role, t.name) for t in run_tags(text.encode(), language)}
        assert ("definition", "f") in roles or ("definition", "F") in roles, language
        if language not in ("c", "cpp"):  # their tags.scm have definitions only
            assert ("reference", "g") in roles or ("reference", "G") in roles, language


def test_predicates_the_binding_does_not_apply_are_handled():
    # #strip!/#select-adjacent! keep the match; JavaScript's #not-eq? drops the constructor from
    # the grammar's method pattern, and our own pattern (tags._EXTRA_PATTERNS) captures it once.
    found = [(t.role, t.kind, t.name) for t in run_tags(b"// doc\nclass A { constructor() {} m() { require('x'); } }\n", "javascript")]
    assert ("definition", "method", "m") in found and found.count(("definition", "method", "constructor")) == 1
    names = {(role, name) for role, _, name in found}
    assert ("reference", "require") not in names  # #not-match? ^(require)$
    # Ruby's #is-not? local: a local variable is not a call.
    ruby = {(t.role, t.name) for t in run_tags(b"def f(a)\n  x = 1\n  bar\n  x + a\nend\n", "ruby")}
    assert ("reference", "bar") in ruby and ("reference", "x") not in ruby and ("reference", "a") not in ruby


def test_extraction_nests_definitions_and_skips_locals():
    found = extract_symbols(PY_USER, "python")
    assert [(d.qualified_name, d.kind) for d in found.definitions] == [
        ("Runner", "class"), ("Runner.run", "method"), ("Runner.finish", "method")]
    uses = {(o.name, o.qualifier, o.kind) for o in found.occurrences}
    assert ("foo", "", "call") in uses and ("finish", "self", "call") in uses and ("foo", "other", "call") in uses
    assert not any(o.name in ("value", "first") for o in found.occurrences)  # parameters and locals
    assert [o.line for o in found.occurrences if o.name == "foo" and o.kind != "assign"] == [1, 7, 8]  # line 11-12's foo is local
    assert [(o.alias, o.name) for o in found.occurrences if o.kind == "assign"] == [("first", "foo")]  # x = Name(…)
    go = extract_symbols("package p\nfunc (s *Server) Run() {}\n", "go")
    assert [d.qualified_name for d in go.definitions] == ["Server.Run"]


def test_outline_is_nested(shop):
    outline = services.file_outline("shop", "pkg/user.py", access=PUBLIC)
    assert [(s.name, [c.name for c in s.children]) for s in outline.symbols] == [("Runner", ["run", "finish"])]
    assert outline.symbols[0].children[0].signature == "def run(self, value):"
    assert outline.total == 3


def test_definition_from_a_usage_site_follows_the_import(shop):
    found = services.find_definition("foo", access=PUBLIC, repository="shop", path="pkg/user.py", line=7)
    assert [(d.path, d.line) for d in found.definitions] == [("pkg/a.py", 1)] and found.resolution == "import"
    other = services.find_definition("other.foo", access=PUBLIC, repository="shop", path="pkg/user.py", line=8)
    assert [d.path for d in other.definitions] == ["pkg/b.py"] and other.resolution == "module"
    method = services.find_definition("self.finish", access=PUBLIC, repository="shop", path="pkg/user.py", line=8)
    assert [d.qualified_name for d in method.definitions] == ["Runner.finish"] and method.resolution == "self"
    anywhere = services.find_definition("foo", access=PUBLIC)
    assert anywhere.total == 2 and anywhere.resolution == "name match" and "narrow" in anywhere.note
    assert [d.path for d in services.find_definition("pkg.b.foo", access=PUBLIC).definitions] == ["pkg/b.py"]
    assert [d.path for d in services.find_definition("pkg.exported_foo", access=PUBLIC).definitions] == ["pkg/a.py"]


def test_definition_in_typescript_and_go(shop):
    ts = services.find_definition("h", access=PUBLIC, repository="shop", path="web/main.ts", line=6)
    assert [(d.path, d.name) for d in ts.definitions] == [("web/util.ts", "helper")]
    box = services.find_definition("util.Box", access=PUBLIC, repository="shop", path="web/main.ts", line=5)
    assert [d.qualified_name for d in box.definitions] == ["Box"]
    same_package = services.find_definition("Add", access=PUBLIC, repository="shop", path="srv/lib/b.go", line=3)
    assert [d.path for d in same_package.definitions] == ["srv/lib/a.go"] and same_package.resolution == "package"
    qualified = services.find_definition("lib.Add", access=PUBLIC, repository="shop", path="srv/main.go", line=5)
    assert [d.path for d in qualified.definitions] == ["srv/lib/a.go"]


def test_a_variable_built_from_a_class_resolves_its_members(tmp_path):
    root = write_tree(tmp_path / "api", {
        "api/jws.py": "class Signer:\n    def encode(self, data):\n        return data\n",
        "api/jwt.py": "class Token:\n    def encode(self, data):\n        return data\n",
        "api/use.py": ("from .jws import Signer\n\n_signer = Signer()\nencode = _signer.encode\n\n\nclass Client:\n"
                       "    def __init__(self):\n        self._jws = Signer()\n\n    def send(self, d):\n"
                       "        return self._jws.encode(d) + {}.get('x', '')\n"),
        "api/cache.py": "class Cache:\n    def get(self, key):\n        return key\n",
    })
    services.index_repository(root, "api")
    for line in (4, 12):
        found = services.find_definition("encode", access=PUBLIC, repository="api", path="api/use.py", line=line)
        assert [(d.path, d.qualified_name) for d in found.definitions] == [("api/jws.py", "Signer.encode")], line
        assert found.resolution == "constructor"
    # dict.get is not the repository's only get: an object of unknown type never resolves to it
    assert services.find_references("Cache.get", access=PUBLIC, repository="api").total == 0


def test_super_and_inherited_members_resolve_through_base_classes(tmp_path):
    root = write_tree(tmp_path / "zoo", {
        "zoo/base.py": "class Animal:\n    def speak(self):\n        return ''\n\n    def name(self):\n        return 'x'\n",
        "zoo/dog.py": ("from .base import Animal\n\n\nclass Dog(Animal):\n    def speak(self):\n"
                       "        return super().speak() + self.name()\n"),
        "zoo/cat.py": "class Cat:\n    def speak(self):\n        return ''\n",
    })
    services.index_repository(root, "zoo")
    parent = services.find_definition("speak", access=PUBLIC, repository="zoo", path="zoo/dog.py", line=6)
    assert [(d.path, d.qualified_name) for d in parent.definitions] == [("zoo/base.py", "Animal.speak")]
    assert parent.resolution == "base class"
    inherited = services.find_definition("self.name", access=PUBLIC, repository="zoo", path="zoo/dog.py", line=6)
    assert [d.qualified_name for d in inherited.definitions] == ["Animal.name"]


def test_object_literal_members_are_reached_through_their_object(tmp_path):
    root = write_tree(tmp_path / "traps", {
        "src/common.ts": "export function has(o: any, k: string): boolean {\n  return k in o;\n}\n",
        "src/index.ts": "export * from './common';\nexport * from './traps';\n",
        "src/traps.ts": ("import { has } from './index';\n\nexport const traps = {\n  has(o: any, k: string) {\n"
                         "    return has(o, k) && this.get(o, k);\n  },\n  get(o: any, k: string) {\n    return o[k];\n  },\n};\n"
                         "const copy: any = {};\ncopy.has = function (o: any, k: string) {\n  return traps.has(o, k);\n};\n"),
        "src/use.ts": "import { traps } from './index';\n\nexport function check(o: any) {\n  return traps.has(o, 'x');\n}\n",
    })
    services.index_repository(root, "traps")
    # a bare has() inside the object's own method is the imported function, not the member
    bare = services.find_definition("has", access=PUBLIC, repository="traps", path="src/traps.ts", line=5)
    assert [(d.path, d.qualified_name) for d in bare.definitions] == [("src/common.ts", "has")] and bare.resolution == "import"
    this = services.find_definition("this.get", access=PUBLIC, repository="traps", path="src/traps.ts", line=5)
    assert [d.qualified_name for d in this.definitions] == ["traps.get"] and this.resolution == "object"
    local = services.find_definition("traps.has", access=PUBLIC, repository="traps", path="src/traps.ts", line=13)
    assert [d.qualified_name for d in local.definitions] == ["traps.has"]
    imported = services.find_definition("traps.has", access=PUBLIC, repository="traps", path="src/use.ts", line=4)
    assert [(d.path, d.qualified_name) for d in imported.definitions] == [("src/traps.ts", "traps.has")]
    outline = services.file_outline("traps", "src/traps.ts", access=PUBLIC).symbols
    assert [(d.qualified_name, d.kind, [c.qualified_name for c in d.children]) for d in outline] == [
        ("traps", "constant", ["traps.has", "traps.get"]), ("copy", "constant", ["copy.has"])]
    member = services.find_references("has", access=PUBLIC, repository="traps", path="src/traps.ts", line=4)
    assert refs(member) == [("src/traps.ts", 13), ("src/use.ts", 4)]


def test_a_local_export_clause_refers_to_the_imported_definition(tmp_path):
    root = write_tree(tmp_path / "lib", {
        "src/engine.ts": "export class Engine {\n  run(): void {}\n}\n",
        "src/internal.ts": "export * from './engine';\n",
        "src/index.ts": "import { Engine } from './internal';\n\nexport const engine = new Engine();\n\nexport { Engine };\n",
    })
    services.index_repository(root, "lib")
    found = services.find_references("Engine", access=PUBLIC, repository="lib", path="src/engine.ts", line=1)
    assert refs(found) == [("src/index.ts", 1), ("src/index.ts", 3), ("src/index.ts", 5)]


def test_an_interface_with_generic_call_signatures_is_a_definition(tmp_path):
    source = ("export interface Produce {\n  /** curried */\n  <C>(recipe: C): C\n  <S, R extends Function>(\n"
              "    base: S,\n    recipe: R\n  ): S\n}\n\nexport interface Other {\n  x: number\n}\n")
    names = [(d.name, d.kind, d.line) for d in extract_symbols(source, "typescript").definitions]
    assert names == [("Produce", "interface", 1), ("Other", "interface", 10), ("x", "field", 11)]


def test_references_count_only_resolved_uses(shop):
    a = services.find_references("foo", access=PUBLIC, repository="shop", path="pkg/a.py", line=1)
    assert refs(a) == [("pkg/__init__.py", 1), ("pkg/user.py", 1), ("pkg/user.py", 7)]
    b = services.find_references("pkg.b.foo", access=PUBLIC, include_definition=True)
    assert refs(b) == [("pkg/b.py", 1), ("pkg/user.py", 8)]
    helper = services.find_references("helper", access=PUBLIC, repository="shop", path="web/util.ts", line=1)
    assert refs(helper) == [("web/main.ts", 1), ("web/main.ts", 6), ("web/main.ts", 6)]  # h(1) through its alias, util.helper(2)
    assert [r.resolution for f in helper.files for r in f.references] == ["import", "import, as h", "module"]
    add = services.find_references("Add", access=PUBLIC, repository="shop", path="srv/lib/a.go", line=3)
    assert refs(add) == [("srv/lib/b.go", 3), ("srv/main.go", 5)]


def test_references_are_paged_and_a_page_past_the_end_is_explained(shop):
    first = services.find_references("foo", access=PUBLIC, repository="shop", path="pkg/a.py", line=1, page_size=2)
    assert first.total == 3 and first.next_page == 2 and len(refs(first)) == 2
    last = services.find_references("foo", access=PUBLIC, repository="shop", path="pkg/a.py", line=1, page_size=2, page=2)
    assert refs(last) == [("pkg/user.py", 7)] and last.next_page is None
    with pytest.raises(InvalidArgument, match="past the end"):
        services.find_references("foo", access=PUBLIC, repository="shop", path="pkg/a.py", line=1, page_size=2, page=3)


def test_incremental_update_rename_and_delete(shop):
    (shop / "pkg" / "b.py").write_text("def bar(x):\n    return x * 2\n")
    (shop / "pkg" / "a.py").unlink()
    services.index_repository(shop, "shop")
    assert services.find_definition("bar", access=PUBLIC).definitions[0].path == "pkg/b.py"
    with pytest.raises(SymbolNotFound):
        services.find_definition("pkg.b.foo", access=PUBLIC)
    assert not Symbol.objects.filter(file__path="pkg/a.py").exists()
    assert not Occurrence.objects.filter(file__path="pkg/a.py").exists()
    # user.py did not change, yet its import of pkg.a.foo no longer resolves anywhere
    with pytest.raises(SymbolNotFound):
        services.find_definition("foo", access=PUBLIC, repository="shop", path="pkg/user.py", line=7)
    assert services.find_references("bar", access=PUBLIC, repository="shop", path="pkg/b.py", line=1).total == 0


def test_hidden_repository_and_path_get_the_unknown_answer(shop, tmp_path):
    vault = write_tree(tmp_path / "vault", {"crypto.py": "def rotate(k):\n    return k\n"})
    services.index_repository(vault, "vault")
    Repository.objects.filter(name="vault").update(visibility="groups")
    for call in (lambda r: services.file_outline(r, "crypto.py", access=PUBLIC),
                 lambda r: services.find_definition("rotate", access=PUBLIC, repository=r),
                 lambda r: services.find_references("rotate", access=PUBLIC, repository=r)):
        with pytest.raises(RepositoryNotFound) as hidden:
            call("vault")
        with pytest.raises(RepositoryNotFound) as unknown:
            call("nowhere")
        assert str(hidden.value).replace("vault", "X") == str(unknown.value).replace("nowhere", "X")
    with pytest.raises(SymbolNotFound):
        services.find_definition("rotate", access=PUBLIC)
    assert services.find_definition("rotate", access=RepositoryAccess(repositories=frozenset({"vault"}))).total == 1
    with pytest.raises(FileNotIndexed):
        services.file_outline("shop", "crypto.py", access=PUBLIC)


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"symbol": "x" * 201}, "at most 200"),
    ({"symbol": "a b"}, "not a name"),
    ({"symbol": ""}, "required"),
    ({"symbol": "foo", "line": 3}, "needs the path"),
    ({"symbol": "foo", "path": "pkg/a.py"}, "needs the repository"),
    ({"symbol": "foo", "repository": "shop", "path": "pkg/a.py", "line": 0}, "line must be"),
    ({"symbol": "nothing_here"}, "no definition"),
])
def test_bad_input_is_refused_with_a_reason(shop, kwargs, words):
    symbol = kwargs.pop("symbol")
    with pytest.raises((InvalidArgument, SymbolNotFound), match=words):
        services.find_definition(symbol, access=PUBLIC, **kwargs)


def test_fields_are_definitions_reached_by_name_and_from_their_usage_sites(tmp_path):
    root = write_tree(tmp_path / "cfg", {
        "cfg/settings.py": ("from dataclasses import dataclass\n\n\n@dataclass\nclass Settings:\n    timeout: int = 30\n\n"
                            "    def __init__(self, url):\n        self.url = url\n\n    def describe(self):\n"
                            "        return f'{self.url} {self.timeout}'\n"),
        "cfg/use.py": "from .settings import Settings\n\n\ndef connect():\n    s = Settings('x')\n    return s.timeout\n",
        "web/box.ts": "export class Box {\n  width: number = 1;\n  #secret = 2;\n}\n",
        "srv/point.go": "package srv\n\ntype Point struct {\n\tX, Y int\n}\n",
        "lib/shape.rs": "pub struct Shape {\n    pub sides: u32,\n}\n",
        "java/Counter.java": "class Counter {\n  private int count = 0, limit;\n}\n",
    })
    services.index_repository(root, "cfg")
    for name, where in [("Settings.timeout", ("cfg/settings.py", 6)), ("Settings.url", ("cfg/settings.py", 9)),
                        ("Box.width", ("web/box.ts", 2)), ("Point.Y", ("srv/point.go", 4)), ("Shape.sides", ("lib/shape.rs", 2)),
                        ("Counter.limit", ("java/Counter.java", 2))]:
        found = services.find_definition(name, access=PUBLIC)
        assert [(d.path, d.line, d.kind) for d in found.definitions] == [(*where, "field")], name
    through_self = services.find_definition("self.timeout", access=PUBLIC, repository="cfg", path="cfg/settings.py", line=12)
    assert [(d.qualified_name, d.line) for d in through_self.definitions] == [("Settings.timeout", 6)]
    through_instance = services.find_definition("timeout", access=PUBLIC, repository="cfg", path="cfg/use.py", line=6)
    assert [(d.qualified_name, d.line) for d in through_instance.definitions] == [("Settings.timeout", 6)]
    outline = services.file_outline("cfg", "cfg/settings.py", access=PUBLIC)
    assert [(s.name, [c.name for c in s.children]) for s in outline.symbols] == [("Settings", ["timeout", "__init__", "url", "describe"])]
    uses = services.find_references("Settings.timeout", access=PUBLIC, repository="cfg")
    assert sorted(refs(uses)) == [("cfg/settings.py", 12), ("cfg/use.py", 6)]


def test_the_migration_reads_the_symbols_of_stored_files_again(tmp_path):
    """An index made before fields were definitions (their rows gone, ``self.url`` a plain
    occurrence) gets them from the stored texts, batch after batch, and a second run changes nothing."""
    root = write_tree(tmp_path / "old", {
        "cfg/settings.py": "class Settings:\n    timeout = 30\n\n    def __init__(self, url):\n        self.url = url\n",
        "cfg/use.py": "from .settings import Settings\n\n\ndef connect():\n    return Settings('x').timeout\n",
        "srv/point.go": "package srv\n\ntype Point struct {\n\tX int\n}\n",
        "README.md": "# old\n",
    })
    services.index_repository(root, "old")

    def rows():
        return (sorted(Symbol.objects.values_list("file__path", "qualified_name", "kind", "line")),
                sorted(Occurrence.objects.values_list("file__path", "name", "line", "column", "kind")))

    expected = rows()
    assert ("cfg/settings.py", "Settings.url", "field", 5) in expected[0]
    Symbol.objects.filter(kind="field").delete()  # as the extraction before stored them
    Occurrence.objects.create(repository=Repository.objects.get(name="old"), file=Symbol.objects.get(name="Settings").file,
                              name="url", line=5, column=14, kind="reference")
    assert rows() != expected
    run_data_migration("0018_field_definitions", batch_files=1)
    assert rows() == expected
    run_data_migration("0018_field_definitions", batch_files=1)  # run again: the same rows
    assert rows() == expected
    assert [d.line for d in services.find_definition("Settings.timeout", access=PUBLIC).definitions] == [2]


def test_commonjs_require_reaches_what_module_exports_names(tmp_path):
    root = write_tree(tmp_path / "semverish", {
        "classes/semver.js": "class SemVer {\n  compare(other) {\n    return 0\n  }\n}\nmodule.exports = SemVer\n",
        "functions/compare.js": ("const SemVer = require('../classes/semver')\nconst compare = (a, b) =>\n"
                                 "  new SemVer(a).compare(new SemVer(b))\nmodule.exports = compare\n"),
        "functions/gt.js": "const compare = require('./compare')\nconst gt = (a, b) => compare(a, b) > 0\nmodule.exports = gt\n",
        "functions/util.js": "const helpers = require('./helpers')\nmodule.exports = () => helpers.pad(1)\n",
        "functions/helpers.js": "function pad(n) {\n  return n\n}\nmodule.exports = { pad }\n",
    })
    services.index_repository(root, "semverish")
    found = services.find_definition("compare", access=PUBLIC, repository="semverish", path="functions/gt.js", line=2)
    assert [(d.path, d.line) for d in found.definitions] == [("functions/compare.js", 2)] and found.resolution == "import"
    klass = services.find_definition("SemVer", access=PUBLIC, repository="semverish", path="functions/compare.js", line=3)
    assert [(d.path, d.qualified_name) for d in klass.definitions] == [("classes/semver.js", "SemVer")]
    uses = services.find_references("SemVer", access=PUBLIC, repository="semverish", path="classes/semver.js", line=1)
    assert [(p, line) for p, line in refs(uses) if p != "classes/semver.js"] == [("functions/compare.js", 3), ("functions/compare.js", 3)]
    calls = services.find_references("compare", access=PUBLIC, repository="semverish", path="functions/compare.js", line=2)
    assert ("functions/gt.js", 2) in refs(calls)
    member = services.find_definition("helpers.pad", access=PUBLIC, repository="semverish", path="functions/util.js", line=2)
    assert [(d.path, d.line) for d in member.definitions] == [("functions/helpers.js", 1)]


def test_a_parameter_or_local_at_the_usage_site_is_answered_as_one_not_matched_by_name(tmp_path):
    root = write_tree(tmp_path / "req", {
        "req/sessions.py": "def session():\n    return Session()\n\n\nclass Session:\n    url = ''\n",
        "req/api.py": ("from . import sessions\n\n\ndef request(method, url, **kwargs):\n"
                       "    with sessions.Session() as session:\n        return session.request(method=method, url=url, **kwargs)\n"),
        "web/fetch.js": "function get(url) {\n  const { size } = url;\n  return size + url.length;\n}\n",
    })
    services.index_repository(root, "req")
    local = services.find_definition("session", access=PUBLIC, repository="req", path="req/api.py", line=6)
    assert local.resolution == "local" and "local variable" in local.note
    assert [(d.path, d.line, d.kind, d.qualified_name) for d in local.definitions] == [("req/api.py", 5, "local", "request.session")]
    parameter = services.find_definition("url", access=PUBLIC, repository="req", path="req/api.py", line=6)
    assert [(d.line, d.column, d.signature) for d in parameter.definitions] == [(4, 21, "def request(method, url, **kwargs):")]
    js = services.find_definition("size", access=PUBLIC, repository="req", path="web/fetch.js", line=3)
    assert [(d.line, d.kind) for d in js.definitions] == [(2, "local")]
    with pytest.raises(SymbolNotFound, match=r"'session' at req/api.py:6 is a parameter or local variable of request \(first named at line 5\)"):
        services.find_references("session", access=PUBLIC, repository="req", path="req/api.py", line=6)
    # without a site, or where the name is no local, the index's definitions as before
    assert services.find_definition("session", access=PUBLIC, repository="req").resolution == "name match"
    module_level = services.find_definition("sessions.Session", access=PUBLIC, repository="req", path="req/api.py", line=5)
    assert [d.qualified_name for d in module_level.definitions] == ["Session"]


def test_overload_signatures_give_way_to_the_implementation(tmp_path):
    root = write_tree(tmp_path / "cli", {
        "cli/decorators.py": ("import typing\nfrom typing import overload\n\n\n@overload\ndef command(name: str) -> int: ...\n\n\n"
                              "@typing.overload\ndef command(name: None = None) -> str: ...\n\n\ndef command(name=None):\n    return name\n\n\n"
                              "@overload\ndef stub_only(x: int) -> int: ...\n"),
        "cli/__init__.py": "from .decorators import command\n",
        "cli/use.py": "from . import command\n\ncommand('x')\n",
    })
    services.index_repository(root, "cli")
    found = services.find_definition("command", access=PUBLIC, repository="cli", path="cli/use.py", line=3)
    assert [(d.path, d.line) for d in found.definitions] == [("cli/decorators.py", 13)] and found.total == 1
    assert [d.line for d in services.find_definition("stub_only", access=PUBLIC).definitions] == [18]  # no implementation: the stub


def test_references_include_uses_through_an_import_alias(tmp_path):
    root = write_tree(tmp_path / "alias", {
        "pkg/__init__.py": "",
        "pkg/models.py": "MAX_ITEMS = 10\n",
        "pkg/use.py": "from pkg.models import MAX_ITEMS as LIMIT\n\n\ndef check(items):\n    return len(items) <= LIMIT\n",
        "web/client.ts": "export class Client {\n  get(): void {}\n}\n",
        "web/index.ts": "export { Client as HttpClient } from './client';\n",
        "web/app.ts": "import { HttpClient } from './index';\n\nexport const c = new HttpClient();\n",
    })
    services.index_repository(root, "alias")
    python = services.find_references("MAX_ITEMS", access=PUBLIC, repository="alias", path="pkg/models.py", line=1)
    assert refs(python) == [("pkg/use.py", 1), ("pkg/use.py", 5)]
    typescript = services.find_references("Client", access=PUBLIC, repository="alias", path="web/client.ts", line=1)
    assert refs(typescript) == [("web/app.ts", 1), ("web/app.ts", 3), ("web/index.ts", 1)]


def test_an_exported_default_class_is_not_a_reference_to_itself(tmp_path):
    root = write_tree(tmp_path / "diffish", {
        "src/base.js": "export default class Diff {\n  diff() {}\n}\n",
        "src/line.js": "import Diff from './base';\n\nexport const lineDiff = new Diff();\n",
    })
    services.index_repository(root, "diffish")
    found = services.find_references("Diff", access=PUBLIC, repository="diffish", path="src/base.js", line=1)
    assert refs(found) == [("src/line.js", 3)]
    with_definition = services.find_references("Diff", access=PUBLIC, repository="diffish", path="src/base.js", line=1,
                                               include_definition=True)
    assert refs(with_definition) == [("src/base.js", 1), ("src/line.js", 3)]


def test_a_javascript_private_name_keeps_its_hash(tmp_path):
    root = write_tree(tmp_path / "cache", {
        "src/cache.js": "export class LRUCache {\n  #max = 1;\n  get max() {\n    return this.#max;\n  }\n  resize(v) {\n    this.#max = v;\n  }\n}\n",
    })
    services.index_repository(root, "cache")
    for symbol in ("#max", "LRUCache.#max"):
        found = services.find_definition(symbol, access=PUBLIC, repository="cache")
        assert [(d.qualified_name, d.line) for d in found.definitions] == [("LRUCache.#max", 2)], symbol
    getter = services.find_definition("max", access=PUBLIC, repository="cache")
    assert [(d.qualified_name, d.line) for d in getter.definitions] == [("LRUCache.max", 3)]
    uses = services.find_references("#max", access=PUBLIC, repository="cache", path="src/cache.js", line=4)
    assert refs(uses) == [("src/cache.js", 4), ("src/cache.js", 7)]
    assert services.find_definition("LRUCache#resize", access=PUBLIC, repository="cache").definitions[0].line == 6  # Ruby's notation
