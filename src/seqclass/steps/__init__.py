"""One module per CLI step; each reads files and writes files through the domain library."""
