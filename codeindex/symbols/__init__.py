"""Code navigation: a symbol table and an occurrence table per file, and the queries over them."""
