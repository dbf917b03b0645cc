"""``aigc-check mark``: write the platform's GB 45438 propagation elements back into the file."""
