"""Master keys: the key file, the environment variable, and every way they can be wrong."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from storage.crypto.keys import ENV_VAR, KeyRing, MasterKey, generate_key_file
from storage.errors import KeyFileError

KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.b64encode(bytes(range(100, 132))).decode()
SHORT = base64.b64encode(bytes(16)).decode()


def write_key_file(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def test_generated_key_file_is_private_and_loads(tmp_path: Path) -> None:
    path = tmp_path / "var" / "keys" / "master.key"
    key_id = generate_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700
    ring = KeyRing.load(path, env={})
    assert ring.key_ids == (key_id,)
    assert ring.source == f"key file {path}"


def test_generated_keys_differ(tmp_path: Path) -> None:
    first = generate_key_file(tmp_path / "a.key")
    second = generate_key_file(tmp_path / "b.key")
    assert first != second


def test_generate_key_file_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    generate_key_file(path)
    before = path.read_bytes()
    with pytest.raises(KeyFileError, match="already exists; refusing to overwrite"):
        generate_key_file(path)
    assert path.read_bytes() == before


def test_first_key_encrypts_and_all_keys_load(tmp_path: Path) -> None:
    path = write_key_file(
        tmp_path / "master.key", f"# rotated in March\nab12cd34:{KEY_A}\n\n00ff00ff:{KEY_B}\n"
    )
    ring = KeyRing.load(path, env={})
    assert ring.primary.key_id == "ab12cd34"
    assert ring.key_ids == ("ab12cd34", "00ff00ff")
    assert ring.get("00ff00ff") is not None
    assert ring.get("12345678") is None


@pytest.mark.parametrize(
    "value",
    [
        f"ab12cd34:{KEY_A},00ff00ff:{KEY_B}",
        f"ab12cd34:{KEY_A}\n00ff00ff:{KEY_B}",
        f" ab12cd34:{KEY_A} ,\n 00ff00ff:{KEY_B} ",
    ],
)
def test_environment_variable_takes_commas_or_newlines(value: str) -> None:
    ring = KeyRing.load(None, env={ENV_VAR: value})
    assert ring.key_ids == ("ab12cd34", "00ff00ff")
    assert ring.source == f"environment variable {ENV_VAR}"


def test_environment_variable_wins_over_key_file(tmp_path: Path) -> None:
    path = write_key_file(tmp_path / "master.key", f"00ff00ff:{KEY_B}\n")
    ring = KeyRing.load(path, env={ENV_VAR: f"ab12cd34:{KEY_A}"})
    assert ring.key_ids == ("ab12cd34",)


def test_no_key_anywhere_is_an_error() -> None:
    with pytest.raises(KeyFileError, match=f"no master key: set {ENV_VAR} or give a key file"):
        KeyRing.load(None, env={})


@pytest.mark.parametrize(
    ("text", "mode", "message"),
    [
        (f"ab12cd34:{KEY_A}\n", 0o644, "has mode 0644; it must be 0600 (chmod 600 {path})"),
        (f"ab12cd34:{KEY_A}\n", 0o640, "has mode 0640; it must be 0600 (chmod 600 {path})"),
        (f"ab12cd34:{KEY_A}\n", 0o604, "has mode 0604; it must be 0600"),
        (f"ab12cd34:{KEY_A}\nnonsense\n", 0o600, "line 2: expected KEYID:BASE64"),
        (f"AB12:{KEY_A}\n", 0o600, "line 1: expected KEYID:BASE64 with an 8-hex-digit key id"),
        ("ab12cd34:not*base64!\n", 0o600, "line 1: key ab12cd34 is not valid base64"),
        (f"ab12cd34:{SHORT}\n", 0o600, "line 1: key ab12cd34 is 16 bytes; it must be 32"),
        (
            f"ab12cd34:{KEY_A}\n# comment\nab12cd34:{KEY_B}\n",
            0o600,
            "line 3: key id ab12cd34 appears twice (first on line 1)",
        ),
        (
            f"ab12cd34:{KEY_A}\n00ff00ff:{KEY_A}\n",
            0o600,
            "line 2: repeats the key of line 1 under another id",
        ),
        ("# only a comment\n\n", 0o600, "holds no master key"),
    ],
)
def test_bad_key_file_is_refused_with_a_clear_message(
    tmp_path: Path, text: str, mode: int, message: str
) -> None:
    path = write_key_file(tmp_path / "master.key", text, mode)
    with pytest.raises(KeyFileError) as caught:
        KeyRing.load(path, env={})
    assert str(caught.value).startswith(f"key file {path} ")
    assert message.format(path=path) in str(caught.value)
    for secret in (KEY_A, KEY_B, SHORT, "not*base64!"):
        assert secret not in str(caught.value)


def test_missing_key_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "var" / "master.key"
    with pytest.raises(KeyFileError, match=f"key file {path} does not exist"):
        KeyRing.load(path, env={})


def test_directory_instead_of_key_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="is not a regular file"):
        KeyRing.load(tmp_path, env={})


def test_malformed_environment_variable_names_the_variable() -> None:
    with pytest.raises(KeyFileError, match=f"environment variable {ENV_VAR} line 1: key ab12cd34"):
        KeyRing.load(None, env={ENV_VAR: f"ab12cd34:{SHORT}"})


def test_key_material_never_appears_in_repr() -> None:
    key = MasterKey.generate()
    ring = KeyRing((key,), "test")
    encoded = base64.b64encode(key.secret).decode()
    for text in (repr(key), repr(ring), str(ring)):
        assert encoded not in text
        assert key.secret.hex() not in text
        assert key.key_id in text


def test_group_readable_key_file_is_refused_even_when_content_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    generate_key_file(path)
    os.chmod(path, 0o660)
    with pytest.raises(KeyFileError, match="has mode 0660"):
        KeyRing.load(path, env={})


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_key_file_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    path = write_key_file(tmp_path / "master.key", f"a1b2c3d4:{KEY_A}\n")
    os.chown(path, 65534, 65534)
    with pytest.raises(KeyFileError, match="belongs to user id 65534"):
        KeyRing.load(path, env={})


def test_a_link_to_a_private_key_file_is_followed_and_its_target_checked(tmp_path: Path) -> None:
    (tmp_path / "secret").mkdir()
    target = write_key_file(tmp_path / "secret" / "master.key", f"a1b2c3d4:{KEY_A}\n")
    link = tmp_path / "master.key"
    link.symlink_to(target)
    assert KeyRing.load(link, env={}).key_ids == ("a1b2c3d4",)
    target.chmod(0o644)
    with pytest.raises(KeyFileError, match="mode 0644"):
        KeyRing.load(link, env={})


def test_a_huge_file_is_not_taken_for_a_key_file(tmp_path: Path) -> None:
    path = write_key_file(tmp_path / "master.key", "#" * (70 * 1024))
    with pytest.raises(KeyFileError, match="larger than a key file"):
        KeyRing.load(path, env={})
