"""The Secret type: equality and hashing agree, so that sets and dicts of secrets to redact hold each value once."""

from __future__ import annotations

from robocore.secrets import MASK, Secret, scrub


def test_equal_secrets_hash_equal() -> None:
    """Secrets with the same value are equal and hash equal whatever their names; other values differ."""
    stored = Secret("S3cr3t-hash-0001", "compte.password")
    rendered = Secret("S3cr3t-hash-0001", "template")
    assert stored == rendered and hash(stored) == hash(rendered)
    assert stored != Secret("S3cr3t-hash-0002", "compte.password")
    assert stored != "S3cr3t-hash-0001"  # never equal to its clear text


def test_redaction_set_holds_each_secret_value_once() -> None:
    """A set or dict of secrets gathered from several steps keeps one entry per value, found under any name."""
    found = [Secret("S3cr3t-set-00001", "compte.password"), Secret("S3cr3t-set-00001", "template"),
             Secret("S3cr3t-set-00002", "api.token")]
    to_redact = set(found)
    assert len(to_redact) == 2 and Secret("S3cr3t-set-00001", "autre.nom") in to_redact
    names: dict[Secret, list[str]] = {}
    for secret in found:
        names.setdefault(secret, []).append(secret.name)
    assert names[Secret("S3cr3t-set-00001", "x")] == ["compte.password", "template"]
    assert scrub(" ".join(s.reveal() for s in to_redact)) == f"{MASK} {MASK}"
