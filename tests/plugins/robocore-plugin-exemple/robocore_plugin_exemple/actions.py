"""The plugin's actions: discovered through the `robocore.plugins` entry point group."""

from __future__ import annotations

from typing import Annotated, TypedDict

from robocore import BusinessError, Context, action


class Salut(TypedDict):
    """What exemple.saluer gives the next steps (`steps.<id>.message`, `steps.<id>.longueur`)."""

    message: Annotated[str, "the greeting, repeated `fois` times"]
    longueur: Annotated[int, "the greeting's length in characters"]


@action("exemple.saluer")
def saluer(ctx: Context, nom: str, fois: int = 1) -> Salut:
    """Greet someone by name; the output is `steps.<id>.message`.

    Args:
        nom: the name of the person to greet (not empty).
        fois: how many times to repeat the greeting.

    Example:
        - id: salut
          use: exemple.saluer
          with: {nom: "{{ inputs.nom }}", fois: 2}
    """
    if not nom.strip():
        raise BusinessError("nom vide / empty name")
    message = " ".join([f"Bonjour {nom} !"] * fois)
    ctx.log.info("exemple.salut", nom=nom)
    return {"message": message, "longueur": len(message)}
