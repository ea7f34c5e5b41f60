"""The language server for .nqa files: `nqa lsp`. Nothing here imports torch."""
