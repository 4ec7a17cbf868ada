"""Field ciphertexts, wrapped data keys and keyed hashes, with the real AES-GCM."""

from __future__ import annotations

import pytest

from storage.crypto import (
    HEADER_LEN,
    MAGIC,
    VERSION,
    DataKey,
    FieldCipher,
    FieldRef,
    derive_key,
    key_id_of,
    keyed_hash,
    unwrap_key,
    wrap_key,
)
from storage.errors import CryptoError, DecryptionError

REF = FieldRef("answers", "a" * 32, "text")
TEXT = "He said the social worker never came back after March."


@pytest.fixture
def key() -> DataKey:
    return DataKey.generate()


def test_given_a_field_when_sealed_and_opened_then_the_text_comes_back(key: DataKey) -> None:
    sealed = FieldCipher.encrypt_text(key, TEXT, REF)

    assert FieldCipher.decrypt_text(key, sealed, REF) == TEXT
    assert TEXT.encode() not in sealed


def test_given_the_same_text_twice_when_sealed_then_ciphertexts_differ(key: DataKey) -> None:
    assert FieldCipher.encrypt_text(key, TEXT, REF) != FieldCipher.encrypt_text(key, TEXT, REF)


def test_given_a_ciphertext_then_it_starts_with_magic_version_and_key_id(key: DataKey) -> None:
    sealed = FieldCipher.encrypt_text(key, TEXT, REF)

    assert sealed[:3] == MAGIC == b"CVF"
    assert sealed[3] == VERSION == 1
    assert sealed[4:HEADER_LEN] == bytes.fromhex(key.key_id)
    assert key_id_of(sealed) == key.key_id


def test_given_any_single_bit_flipped_when_opened_then_decryption_error(key: DataKey) -> None:
    sealed = FieldCipher.encrypt_text(key, TEXT, REF)
    for index in range(len(sealed)):
        for bit in range(8):
            tampered = bytearray(sealed)
            tampered[index] ^= 1 << bit
            with pytest.raises(DecryptionError):
                FieldCipher.decrypt(key, bytes(tampered), REF)


@pytest.mark.parametrize(
    "other",
    [
        FieldRef("answers", "b" * 32, "text"),  # another record
        FieldRef("answers", "a" * 32, "note"),  # another field
        FieldRef("answer_versions", "a" * 32, "text"),  # another table
        FieldRef("answers", "a" * 31, "text"),  # a truncated id
    ],
)
def test_given_a_ciphertext_moved_elsewhere_when_opened_then_decryption_error(
    key: DataKey, other: FieldRef
) -> None:
    sealed = FieldCipher.encrypt_text(key, TEXT, REF)

    with pytest.raises(DecryptionError):
        FieldCipher.decrypt(key, sealed, other)


@pytest.mark.parametrize(
    ("table", "record_id", "field"),
    [
        ("answers|x", "a", "text"),
        ("answers", "a|b", "text"),
        ("answers", "a", ""),
        ("", "a", "text"),
    ],
)
def test_given_an_address_part_that_could_shift_into_another_then_refused(
    table: str, record_id: str, field: str
) -> None:
    # Parts are joined with "|": FieldRef("t|1", "2", "f") would otherwise equal ("t", "1|2", "f").
    with pytest.raises(ValueError):
        FieldRef(table, record_id, field)


def test_given_another_data_key_when_opened_then_decryption_error(key: DataKey) -> None:
    sealed = FieldCipher.encrypt_text(key, TEXT, REF)
    other = DataKey.generate()

    with pytest.raises(DecryptionError):
        FieldCipher.decrypt(other, sealed, REF)
    # Even an impostor key that claims the right id fails the tag.
    impostor = DataKey(key_id=key.key_id, key=other.key)
    with pytest.raises(DecryptionError):
        FieldCipher.decrypt(impostor, sealed, REF)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: b"XVF" + c[3:],  # wrong magic
        lambda c: c[:3] + bytes([2]) + c[4:],  # unknown version
        lambda c: c[:3] + bytes([0]) + c[4:],  # version 0
        lambda c: c[: HEADER_LEN + 5],  # truncated
        lambda c: b"",  # empty
    ],
)
def test_given_a_bad_header_when_opened_then_decryption_error(key: DataKey, mangle: object) -> None:
    sealed = FieldCipher.encrypt_text(key, TEXT, REF)
    bad = mangle(sealed)  # type: ignore[operator]

    with pytest.raises(DecryptionError):
        FieldCipher.decrypt(key, bad, REF)
    with pytest.raises(DecryptionError):
        key_id_of(bad)


def test_given_a_decryption_error_then_its_message_holds_no_plaintext(key: DataKey) -> None:
    sealed = bytearray(FieldCipher.encrypt_text(key, TEXT, REF))
    sealed[-1] ^= 1
    with pytest.raises(DecryptionError) as info:
        FieldCipher.decrypt(key, bytes(sealed), REF)

    assert "social worker" not in str(info.value)
    assert isinstance(info.value, CryptoError)


def test_given_a_wrapped_dek_when_unwrapped_with_its_kek_then_same_key(key: DataKey) -> None:
    kek = DataKey.generate().key
    wrapped = wrap_key("kek-1", kek, key)

    assert key.key not in wrapped
    assert unwrap_key("kek-1", kek, key.key_id, wrapped) == key


def test_given_a_wrapped_dek_with_any_bit_flipped_then_decryption_error(key: DataKey) -> None:
    kek = DataKey.generate().key
    wrapped = wrap_key("kek-1", kek, key)
    for index in range(len(wrapped)):
        tampered = bytearray(wrapped)
        tampered[index] ^= 0x01
        with pytest.raises(DecryptionError):
            unwrap_key("kek-1", kek, key.key_id, bytes(tampered))


def test_given_a_wrapped_dek_when_claimed_by_another_id_or_kek_then_decryption_error(
    key: DataKey,
) -> None:
    kek = DataKey.generate().key
    wrapped = wrap_key("kek-1", kek, key)

    with pytest.raises(DecryptionError):  # the wrapped key moved to another key row
        unwrap_key("kek-1", kek, DataKey.generate().key_id, wrapped)
    with pytest.raises(DecryptionError):  # recorded under another KEK id
        unwrap_key("kek-2", kek, key.key_id, wrapped)
    with pytest.raises(DecryptionError):  # the wrong KEK
        unwrap_key("kek-1", DataKey.generate().key, key.key_id, wrapped)


def test_given_a_data_key_then_repr_never_shows_the_key(key: DataKey) -> None:
    assert key.key.hex() not in repr(key)
    assert repr(key.key) not in repr(key)


@pytest.mark.parametrize(("key_id", "raw"), [("00" * 16, b"\0" * 31), ("00" * 15, b"\0" * 32)])
def test_given_a_malformed_data_key_then_refused(key_id: str, raw: bytes) -> None:
    with pytest.raises(ValueError):
        DataKey(key_id=key_id, key=raw)


def test_given_a_keyed_hash_then_it_is_stable_keyed_and_purpose_separated() -> None:
    secret = b"k" * 32
    first = keyed_hash(secret, "tg-user", 123456789)

    assert first == keyed_hash(secret, "tg-user", 123456789)
    assert first == keyed_hash(secret, "tg-user", "123456789")
    assert len(first) == 64 and int(first, 16) >= 0
    assert "123456789" not in first
    assert first != keyed_hash(secret, "tg-chat", 123456789)
    assert first != keyed_hash(secret, "invite", 123456789)
    assert first != keyed_hash(b"j" * 32, "tg-user", 123456789)
    assert first != keyed_hash(secret, "tg-user", 123456780)


def test_given_derived_keys_then_each_purpose_gets_its_own() -> None:
    root = b"r" * 32
    assert derive_key(root, "audit-chain") == derive_key(root, "audit-chain")
    assert derive_key(root, "audit-chain") != derive_key(root, "invite")
    assert len(derive_key(root, "audit-chain")) == 32
    assert derive_key(root, "audit-chain") != root
