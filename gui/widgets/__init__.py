"""One view per file; widgets display what they are handed and emit requests, they hold no data."""
