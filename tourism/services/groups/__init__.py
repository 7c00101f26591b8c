"""Private group requests: asked for on an experience, answered by its association."""
