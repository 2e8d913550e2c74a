"""The plugin's actions: discovered through the `robocore.plugins` entry point group."""

from __future__ import annotations

from robocore import BusinessError, Context, action


@action("exemple.saluer")
def saluer(ctx: Context, nom: str, fois: int = 1) -> dict[str, object]:
    """Greet someone by name; the output is `steps.<id>.message`."""
    if not nom.strip():
        raise BusinessError("nom vide / empty name")
    message = " ".join([f"Bonjour {nom} !"] * fois)
    ctx.log.info("exemple.salut", nom=nom)
    return {"message": message, "longueur": len(message)}
