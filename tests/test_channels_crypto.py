"""Callback crypto against the platforms' published sample values, and its refusals."""

from __future__ import annotations

import base64
import hashlib
import struct
from typing import Any

import pytest
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from test_channels_support import vectors

from bot.channels.crypto import (
    CryptoError,
    FeishuCipher,
    WXBizMsgCrypt,
    decode_encoding_aes_key,
    sha1_signature,
)

WX = {k: v for k, v in {**vectors("wecom"), **vectors("dingtalk")}.items()
      if "encrypt" in v["inputs"]}
FEISHU = {k: v for k, v in vectors("feishu").items() if "encrypt" in v["inputs"]}


def wx(v: dict[str, Any]) -> WXBizMsgCrypt:
    i = v["inputs"]
    return WXBizMsgCrypt(i["token"], i.get("encoding_aes_key") or i["aes_key"],
                         i.get("receive_id") or i["owner_key"])


def random16(v: dict[str, Any]) -> bytes:
    e = v["expected"]
    return bytes.fromhex(e["random16_hex"]) if "random16_hex" in e else e["random16"].encode()


def test_all_verified_wx_and_feishu_vectors_present() -> None:
    assert len(WX) == 7 and len(FEISHU) == 3
    assert all(v["status"] == "VERIFIED" for v in [*WX.values(), *FEISHU.values()])


@pytest.mark.parametrize("vid", sorted(WX))
def test_wx_signature(vid: str) -> None:
    v = WX[vid]
    i, e = v["inputs"], v["expected"]
    sig = e.get("msg_signature") or e["signature"]
    c = wx(v)
    assert c.signature(i["timestamp"], i["nonce"], i["encrypt"]) == sig
    assert c.verify(sig, i["timestamp"], i["nonce"], i["encrypt"])
    assert c.verify(sig.upper(), i["timestamp"], i["nonce"], i["encrypt"])
    tampered = ("0" if sig[0] != "0" else "1") + sig[1:]
    assert not c.verify(tampered, i["timestamp"], i["nonce"], i["encrypt"])
    # the same formula written out independently
    parts = sorted([i["token"], i["timestamp"], i["nonce"], i["encrypt"]])
    assert hashlib.sha1("".join(parts).encode()).hexdigest() == sig
    assert sha1_signature(*parts) == sig


@pytest.mark.parametrize("vid", sorted(WX))
def test_wx_decrypt_and_reencrypt_byte_identical(vid: str) -> None:
    v = WX[vid]
    i, e = v["inputs"], v["expected"]
    c = wx(v)
    plain = c.decrypt(i["encrypt"])
    assert plain == e["plaintext"].encode("utf-8")  # bytes: one sample is not valid JSON
    assert c.encrypt(plain, random16(v)) == i["encrypt"]


@pytest.mark.parametrize("vid", sorted(WX))
def test_wx_pads_to_32_bytes(vid: str) -> None:
    v = WX[vid]
    i, e = v["inputs"], v["expected"]
    raw = base64.b64decode(i["encrypt"])
    body = 16 + 4 + len(e["plaintext"].encode("utf-8")) + len(wx(v).receive_id.encode())
    assert len(raw) - body == e["pkcs7_pad_len"]
    assert len(raw) % 32 == 0


def test_a_16_byte_unpadder_rejects_the_official_sample() -> None:
    """The pitfall: pad 30 is valid PKCS#7/32 but not PKCS#7/16."""
    v = WX["wecom-doc-decrypt-xml"]
    c = wx(v)
    raw = base64.b64decode(v["inputs"]["encrypt"])
    dec = Cipher(algorithms.AES(c.key), modes.CBC(c.iv)).decryptor()
    padded = dec.update(raw) + dec.finalize()
    assert padded[-1] == 30
    unpadder = padding.PKCS7(128).unpadder()
    with pytest.raises(ValueError):
        unpadder.update(padded) + unpadder.finalize()


def test_msg_len_counts_utf8_bytes() -> None:
    v = WX["wecom-sample-decrypt-xml"]
    c = wx(v)
    raw = base64.b64decode(v["inputs"]["encrypt"])
    dec = Cipher(algorithms.AES(c.key), modes.CBC(c.iv)).decryptor()
    plain = dec.update(raw) + dec.finalize()
    (length,) = struct.unpack(">I", plain[16:20])
    text = v["expected"]["plaintext"]
    assert length == len(text.encode("utf-8")) != len(text)
    msg = "您好，关于您的差评我们非常抱歉".encode()
    assert c.decrypt(c.encrypt(msg)) == msg


def test_wrong_receive_id_is_refused() -> None:
    v = WX["wecom-doc-decrypt-xml"]
    i = v["inputs"]
    other = WXBizMsgCrypt(i["token"], i["encoding_aes_key"], "wx0000000000000000")
    with pytest.raises(CryptoError) as exc:
        other.decrypt(i["encrypt"])
    assert exc.value.code == "wrong_receive_id"


def _raw_cbc(c: WXBizMsgCrypt, data: bytes) -> str:
    enc = Cipher(algorithms.AES(c.key), modes.CBC(c.iv)).encryptor()
    return base64.b64encode(enc.update(data) + enc.finalize()).decode()


@pytest.mark.parametrize(("make", "code"), [
    (lambda c: "not base64!!", "bad_base64"),
    (lambda c: base64.b64encode(b"x" * 20).decode(), "bad_ciphertext"),
    (lambda c: "", "bad_ciphertext"),
    # a final byte of 0 and of 33 are both outside PKCS#7/32
    (lambda c: _raw_cbc(c, b"a" * 31 + b"\x00"), "bad_padding"),
    (lambda c: _raw_cbc(c, b"a" * 63 + b"\x21"), "bad_padding"),
    # inconsistent pad bytes
    (lambda c: _raw_cbc(c, b"a" * 29 + b"\x01\x02\x03"), "bad_padding"),
    # msg_len larger than what follows
    (lambda c: _raw_cbc(c, b"r" * 16 + struct.pack(">I", 999) + b"hi" + b"\x0a" * 10),
     "bad_plaintext"),
    # too short to hold random + length
    (lambda c: _raw_cbc(c, b"r" * 16 + b"\x10" * 16), "bad_plaintext"),
])
def test_bad_ciphertexts_are_refused(make: Any, code: str) -> None:
    c = wx(WX["wecom-doc-verifyurl"])
    with pytest.raises(CryptoError) as exc:
        c.decrypt(make(c))
    assert exc.value.code == code


def test_encoding_aes_key_is_checked() -> None:
    assert len(decode_encoding_aes_key("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C")) == 32
    for bad in ("short", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2", "!" * 43):
        with pytest.raises(ValueError):
            decode_encoding_aes_key(bad)


@pytest.mark.parametrize("vid", sorted(FEISHU))
def test_feishu_decrypt_and_reencrypt(vid: str) -> None:
    v = FEISHU[vid]
    i, e = v["inputs"], v["expected"]
    f = FeishuCipher(i["encrypt_key"])
    plain = f.decrypt(i["encrypt"])
    assert plain == e["plaintext"].encode("utf-8")
    assert base64.b64decode(i["encrypt"])[:16].hex() == e["iv_hex"]
    assert f.encrypt(plain, bytes.fromhex(e["iv_hex"])) == i["encrypt"]
    if "aes_key_hex" in e:
        assert f.key.hex() == e["aes_key_hex"]


def test_feishu_refusals() -> None:
    f = FeishuCipher("test key")
    good = FEISHU["feishu-doc-decrypt-hello-world"]["inputs"]["encrypt"]
    with pytest.raises(CryptoError) as exc:
        FeishuCipher("wrong key").decrypt(good)
    assert exc.value.code == "bad_padding"
    with pytest.raises(CryptoError):
        f.decrypt(base64.b64encode(b"\x00" * 16).decode())  # IV only
    with pytest.raises(CryptoError):
        f.decrypt(base64.b64encode(b"\x00" * 40).decode())  # not whole blocks
    with pytest.raises(CryptoError):
        f.decrypt("@@@")


def test_feishu_signature_formula() -> None:
    f = FeishuCipher("kudryavka")
    body = b'{"encrypt":"abc"}'
    expected = hashlib.sha256(b"1700000000" + b"nonce" + b"kudryavka" + body).hexdigest()
    assert f.signature("1700000000", "nonce", body) == expected
    assert f.verify(expected, "1700000000", "nonce", body)
    assert not f.verify(expected, "1700000000", "nonce", body + b" ")
