"""Result models of the code-navigation tools (``symbols.py``): their ``outputSchema``."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SymbolLocationModel(BaseModel):
    repository: str
    path: str = Field(description="File path relative to the repository root (POSIX separators).")
    language: str
    name: str
    qualified_name: str = Field(description="Name with its enclosing definitions, e.g. Parser.parse.")
    kind: str = Field(description="function, method, class, interface, module, constant, type …")
    signature: str = Field(description="The definition's first line.")
    start_line: int = Field(description="First line of the definition, 1-based.")
    end_line: int = Field(description="Last line of the definition, 1-based, inclusive.")
    line: int = Field(description="Line of the name, 1-based.")
    column: int = Field(description="Column of the name, 1-based.")


class OutlineSymbolModel(BaseModel):
    name: str
    qualified_name: str
    kind: str
    signature: str
    start_line: int
    end_line: int
    children: list[OutlineSymbolModel] = Field(default_factory=list, description="Definitions nested inside this one.")


class FileOutlineModel(BaseModel):
    repository: str
    path: str
    language: str
    line_count: int
    total: int = Field(description="Number of definitions in the file, nested ones included.")
    symbols: list[OutlineSymbolModel]


class DefinitionsModel(BaseModel):
    symbol: str
    resolution: str = Field(description="How the answer was found: definition, scope, import, package, self, module, class, "
                                        "unique name (a heuristic), local (a parameter or local variable at the site: where its "
                                        "function first names it), or name match (every definition of the name).")
    total: int = Field(description="Definitions that match; only the first few are listed.")
    note: str = ""
    definitions: list[SymbolLocationModel]


class ReferenceModel(BaseModel):
    line: int = Field(description="1-based.")
    column: int = Field(description="1-based, in characters.")
    kind: str = Field(description="call, reference, import, type, class, definition …")
    enclosing: str = Field(description="Qualified name of the function or class the reference is in; empty at top level.")
    text: str = Field(description="The line, stripped (at most 200 characters).")
    resolution: str = Field(description="How this use was tied to the definition (scope, import, self, module, unique name …); "
                                        "', as NAME' when the use names an alias an import bound (from m import X as NAME).")


class ReferenceFileModel(BaseModel):
    repository: str
    path: str
    references: list[ReferenceModel]


class ReferencesModel(BaseModel):
    symbol: str
    definitions: list[SymbolLocationModel] = Field(description="The definitions whose references are listed.")
    total: int = Field(description="References on all pages.")
    page: int
    next_page: int | None = Field(None, description="Pass as page for more; null on the last page.")
    note: str = ""
    files: list[ReferenceFileModel] = Field(description="This page's references, grouped by file, in path and line order.")
