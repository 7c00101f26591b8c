"""Finding and shaping experiences: the public catalog, what staff may submit, photos."""
