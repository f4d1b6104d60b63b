"""Callback cryptography: WXBizMsgCrypt (WeCom, DingTalk) and Feishu's Encrypt Key scheme.

All AES goes through the ``cryptography`` package. WeCom and DingTalk pad PKCS#7 to a
32-byte boundary (pad 1..32), not AES's 16: their official samples have pads of 22, 30
and 31, which a stock 16-byte unpadder rejects.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


class CryptoError(Exception):
    """A ciphertext that does not decrypt to a well-formed message for us."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise CryptoError("bad_base64", "密文不是合法的 Base64") from None


def _cbc_encrypt(key: bytes, iv: bytes, data: bytes, block_bits: int) -> bytes:
    padder = padding.PKCS7(block_bits).padder()
    padded = padder.update(data) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return enc.update(padded) + enc.finalize()


def _cbc_decrypt(key: bytes, iv: bytes, data: bytes, block_bits: int) -> bytes:
    if not data or len(data) % 16:
        raise CryptoError("bad_ciphertext", "密文长度不是 16 字节的整数倍")
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    padded = dec.update(data) + dec.finalize()
    unpadder = padding.PKCS7(block_bits).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise CryptoError("bad_padding", "解密后的填充不正确（密钥错误或密文被篡改）") from None


def sha1_signature(*parts: str) -> str:
    """WXBizMsgCrypt's signature: SHA-1 hex of the sorted, concatenated parts."""
    return hashlib.sha1(utf8("".join(sorted(parts)))).hexdigest()


def decode_encoding_aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key of a 43-character EncodingAESKey; ValueError if it is not one."""
    if len(encoding_aes_key) != 43:
        raise ValueError("EncodingAESKey 应为 43 个字符")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("EncodingAESKey 不是合法的 Base64") from None
    if len(key) != 32:
        raise ValueError("EncodingAESKey 解码后应为 32 字节")
    return key


class WXBizMsgCrypt:
    """WeCom's callback crypto, also used by DingTalk's event subscription.

    Plaintext layout: ``random(16) ‖ msg_len (uint32 BE, UTF-8 bytes) ‖ msg ‖ receive_id``;
    AES-256-CBC with ``IV = key[:16]``; PKCS#7 to 32 bytes.
    """

    BLOCK_BITS = 256  # PKCS#7 to 32 bytes

    def __init__(self, token: str, encoding_aes_key: str, receive_id: str) -> None:
        self.token = token
        self.key = decode_encoding_aes_key(encoding_aes_key)
        self.iv = self.key[:16]
        self.receive_id = receive_id

    def signature(self, timestamp: str, nonce: str, encrypt: str) -> str:
        """``msg_signature`` over token, timestamp, nonce and the ciphertext."""
        return sha1_signature(self.token, timestamp, nonce, encrypt)

    def verify(self, signature: str, timestamp: str, nonce: str, encrypt: str) -> bool:
        """Constant-time check of ``signature``."""
        expected = self.signature(timestamp, nonce, encrypt)
        return hmac.compare_digest(expected.encode("ascii"), utf8(signature.strip().lower()))

    def encrypt(self, msg: bytes, random16: bytes | None = None) -> str:
        """Base64 ciphertext of ``msg``; pass ``random16`` to reproduce a known ciphertext."""
        rnd = os.urandom(16) if random16 is None else random16
        if len(rnd) != 16:
            raise ValueError("random prefix must be 16 bytes")
        plain = rnd + struct.pack(">I", len(msg)) + msg + self.receive_id.encode("utf-8")
        return base64.b64encode(_cbc_encrypt(self.key, self.iv, plain, self.BLOCK_BITS)).decode()

    def decrypt(self, encrypt: str) -> bytes:
        """The message bytes of ``encrypt``; CryptoError if malformed or not for us."""
        plain = _cbc_decrypt(self.key, self.iv, _b64decode(encrypt), self.BLOCK_BITS)
        if len(plain) < 20:
            raise CryptoError("bad_plaintext", "解密结果过短")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise CryptoError("bad_plaintext", "解密结果的长度字段不正确")
        msg, tail = plain[20:20 + length], plain[20 + length:]
        # receive id is not secret, but it binds the message to this corp/app (error -40005)
        if not hmac.compare_digest(tail, self.receive_id.encode("utf-8")):
            raise CryptoError("wrong_receive_id", "消息的接收方 ID 与配置不符")
        return msg


class FeishuCipher:
    """Feishu's Encrypt Key scheme: key = SHA-256(encrypt_key), ``base64(iv ‖ AES-CBC)``."""

    BLOCK_BITS = 128

    def __init__(self, encrypt_key: str) -> None:
        self.encrypt_key = encrypt_key
        self.key = hashlib.sha256(encrypt_key.encode("utf-8")).digest()

    def encrypt(self, plaintext: bytes, iv: bytes | None = None) -> str:
        """Base64 of the IV and ciphertext; pass ``iv`` to reproduce a known value."""
        iv = os.urandom(16) if iv is None else iv
        if len(iv) != 16:
            raise ValueError("IV must be 16 bytes")
        sealed = _cbc_encrypt(self.key, iv, plaintext, self.BLOCK_BITS)
        return base64.b64encode(iv + sealed).decode()

    def decrypt(self, encrypt: str) -> bytes:
        """The plaintext bytes; CryptoError if malformed."""
        raw = _b64decode(encrypt)
        if len(raw) < 32:
            raise CryptoError("bad_ciphertext", "密文过短")
        return _cbc_decrypt(self.key, raw[:16], raw[16:], self.BLOCK_BITS)

    def signature(self, timestamp: str, nonce: str, body: bytes) -> str:
        """``X-Lark-Signature``: SHA-256 hex of timestamp + nonce + encrypt key + raw body."""
        head = utf8(timestamp + nonce + self.encrypt_key)
        return hashlib.sha256(head + body).hexdigest()

    def verify(self, signature: str, timestamp: str, nonce: str, body: bytes) -> bool:
        """Constant-time check of ``X-Lark-Signature``."""
        expected = self.signature(timestamp, nonce, body)
        return hmac.compare_digest(expected.encode("ascii"), utf8(signature.strip().lower()))


def utf8(text: str) -> bytes:
    """``text`` as UTF-8; a header's undecodable bytes (aiohttp keeps them as surrogates) go
    back to the bytes they were, so a bad header fails its check instead of raising."""
    return text.encode("utf-8", "surrogateescape")


def hmac_sha256(key: str | bytes, msg: str | bytes) -> bytes:
    """HMAC-SHA256 digest with str arguments taken as UTF-8."""
    k = utf8(key) if isinstance(key, str) else key
    m = utf8(msg) if isinstance(msg, str) else msg
    return hmac.new(k, m, hashlib.sha256).digest()


def same(a: str, b: str) -> bool:
    """Constant-time string equality (UTF-8)."""
    return hmac.compare_digest(utf8(a), utf8(b))
