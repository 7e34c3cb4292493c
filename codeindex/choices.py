"""Closed sets of values codeindex stores or reports: languages, chunk kinds, skip reasons.

Call sites use these constants, never bare strings. ``language_for_path`` maps a file name to a
``Language`` value, e.g. ``language_for_path("src/app/main.ts") == Language.TYPESCRIPT``.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from django.db import models

__all__ = [
    "Language",
    "ChunkKind",
    "SkipReason",
    "JobStatus",
    "CredentialKind",
    "ACTIVE_JOB_STATUSES",
    "JobKind",
    "Visibility",
    "FeedbackKind",
    "QueryIntent",
    "DetailLevel",
    "LANGUAGE_BY_EXTENSION",
    "LANGUAGE_BY_FILENAME",
    "language_for_path",
]


class Language(models.TextChoices):
    """The language a file is written in, decided from its name (never from its content)."""

    PYTHON = "python", "Python"
    JAVASCRIPT = "javascript", "JavaScript"
    TYPESCRIPT = "typescript", "TypeScript"
    GO = "go", "Go"
    RUST = "rust", "Rust"
    JAVA = "java", "Java"
    KOTLIN = "kotlin", "Kotlin"
    SCALA = "scala", "Scala"
    SWIFT = "swift", "Swift"
    C = "c", "C"
    CPP = "cpp", "C++"
    CSHARP = "csharp", "C#"
    RUBY = "ruby", "Ruby"
    PHP = "php", "PHP"
    SHELL = "shell", "Shell"
    SQL = "sql", "SQL"
    HTML = "html", "HTML"
    CSS = "css", "CSS"
    JSON = "json", "JSON"
    YAML = "yaml", "YAML"
    TOML = "toml", "TOML"
    XML = "xml", "XML"
    MARKDOWN = "markdown", "Markdown"
    RESTRUCTUREDTEXT = "rst", "reStructuredText"
    TEXT = "text", "Plain text"


class ChunkKind(models.TextChoices):
    """What a chunk covers: a syntax unit (Python) or a window of lines (everything else)."""

    FUNCTION = "function", "Function"
    METHOD = "method", "Method"
    CLASS = "class", "Class"
    MODULE = "module", "Module-level code"
    WINDOW = "window", "Line window"


class SkipReason(models.TextChoices):
    """Why a file that ``.gitignore`` did not exclude was still left out of the index."""

    BINARY = "binary", "Binary (a NUL byte, or mostly control and non-text bytes)"
    TOO_LARGE = "too_large", "Text larger than MCPRAG_MAX_FILE_BYTES"
    OUTSIDE_ROOT = "outside_root", "Symbolic link pointing outside the repository (never followed)"
    SYMLINK = "symlink", "Symbolic link to a file inside the repository (indexed under its own path)"
    NOT_REGULAR = "not_regular", "Not a regular file (socket, FIFO, device)"
    UNREADABLE = "unreadable", "Could not be read (see errors)"
    GENERATED = "generated", "Generated or minified (lock files, *_pb2.py, *.min.js, 'DO NOT EDIT' headers)"


class JobStatus(models.TextChoices):
    """An index job's lifecycle: queued → running → complete | failed. Only ``jobs`` sets these."""

    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETE = "complete", "Complete"
    FAILED = "failed", "Failed"


#: Statuses of a job that has not ended; at most one such job per repository.
ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class JobKind(models.TextChoices):
    """What an index job does."""

    FULL = "full", "Index the whole tree (only changed files are re-chunked)"
    CHANGED_FILES = "changed_files", "Re-index the listed files only"
    EMBEDDINGS = "embeddings", "Embed chunks that have no vector for the current model"
    SYNC = "sync", "Fetch the git source and re-index the files changed since the indexed commit"


class CredentialKind(models.TextChoices):
    """How mcprag authenticates to a private git source."""

    TOKEN = "token", "HTTPS access token"
    SSH_KEY = "ssh_key", "SSH deploy key"


class Visibility(models.TextChoices):
    """Who may see a repository: every signed-in person, or only members of its groups."""

    EVERYONE = "everyone", "Everyone signed in"
    GROUPS = "groups", "Only the listed groups"


class FeedbackKind(models.TextChoices):
    """A signal about one search result: opened, solved the task (or not), or rated."""

    CLICK = "click", "Result opened"
    OUTCOME = "outcome", "Task outcome with this result"
    RATING = "rating", "Explicit rating"


class QueryIntent(models.TextChoices):
    """What a query looks like, which decides the signals used (see ``query.py``)."""

    IDENTIFIER = "identifier", "A name (getUserName, QuerySet.filter): exact lexical lookup"
    PATH = "path", "A file path or name: lexical over paths"
    NATURAL_LANGUAGE = "natural_language", "Plain words: lexical and dense, fused"


class DetailLevel(models.TextChoices):
    FULL = "full", "Location, symbol and a snippet"
    COMPACT = "compact", "Location, symbol and the first line only"


LANGUAGE_BY_EXTENSION: dict[str, str] = {
    **dict.fromkeys((".py", ".pyi", ".pyw"), Language.PYTHON),
    **dict.fromkeys((".js", ".mjs", ".cjs", ".jsx"), Language.JAVASCRIPT),
    **dict.fromkeys((".ts", ".mts", ".cts", ".tsx"), Language.TYPESCRIPT),
    ".go": Language.GO,
    ".rs": Language.RUST,
    ".java": Language.JAVA,
    **dict.fromkeys((".kt", ".kts"), Language.KOTLIN),
    **dict.fromkeys((".scala", ".sc"), Language.SCALA),
    ".swift": Language.SWIFT,
    **dict.fromkeys((".c", ".h"), Language.C),
    **dict.fromkeys((".cc", ".cpp", ".cxx", ".c++", ".hh", ".hpp", ".hxx", ".h++", ".ipp"), Language.CPP),
    **dict.fromkeys((".cs", ".csx"), Language.CSHARP),
    **dict.fromkeys((".rb", ".rake", ".gemspec"), Language.RUBY),
    **dict.fromkeys((".php", ".phtml"), Language.PHP),
    **dict.fromkeys((".sh", ".bash", ".zsh", ".fish", ".ksh"), Language.SHELL),
    ".sql": Language.SQL,
    **dict.fromkeys((".html", ".htm", ".xhtml", ".jinja", ".j2"), Language.HTML),
    **dict.fromkeys((".css", ".scss", ".sass", ".less"), Language.CSS),
    **dict.fromkeys((".json", ".jsonc", ".json5"), Language.JSON),
    **dict.fromkeys((".yaml", ".yml"), Language.YAML),
    ".toml": Language.TOML,
    **dict.fromkeys((".xml", ".xsd", ".xsl", ".svg"), Language.XML),
    **dict.fromkeys((".md", ".markdown", ".mdx"), Language.MARKDOWN),
    **dict.fromkeys((".rst", ".rest"), Language.RESTRUCTUREDTEXT),
    **dict.fromkeys((".txt", ".text"), Language.TEXT),
}

LANGUAGE_BY_FILENAME: dict[str, str] = {
    "Rakefile": Language.RUBY,
    "Gemfile": Language.RUBY,
    "Vagrantfile": Language.RUBY,
    "SConstruct": Language.PYTHON,
    "SConscript": Language.PYTHON,
}


def language_for_path(path: str) -> str:
    """The ``Language`` value for a relative posix ``path``; ``Language.TEXT`` when unknown.

    The extension is matched case-insensitively (``README.MD`` is Markdown); a few well-known
    extensionless names (``Rakefile``) are matched exactly.
    """
    name = PurePosixPath(path).name
    if name in LANGUAGE_BY_FILENAME:
        return LANGUAGE_BY_FILENAME[name]
    return LANGUAGE_BY_EXTENSION.get(PurePosixPath(name.lower()).suffix, Language.TEXT)
