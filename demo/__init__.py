"""The bundled demo agency web (static sites served on 127.0.0.1 for the demo and the tests)."""
