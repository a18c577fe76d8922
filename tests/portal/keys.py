"""Keys made at test time, and signing done exactly as WeChat Pay and Alipay do it, with
`cryptography` rather than the SDKs under test (so a bug shared by both sides cannot hide)."""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MCHID = "1900000109"
WECHAT_APPID = "wxd678efh567hg6787"
CERT_SERIAL_NO = "444F4864EA9B34415F1A8C9C13C8AD0D9F1B4C2E"
PUBLIC_KEY_ID = "PUB_KEY_ID_0119000001092026051000000000000001"
APIV3_KEY = "a12d3924fd499edac8a5efc8b2e5a6f1"  # 32 bytes: AES-256
ALIPAY_APPID = "2021000123456789"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def public_pem(key) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def sign(key, message: str) -> str:
    """SHA256withRSA, base64: the signature both providers use."""
    return base64.b64encode(key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def verify(public_key, message: str, signature: str) -> bool:
    try:
        public_key.verify(base64.b64decode(signature), message.encode(), padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        return False
    return True


@dataclass
class Keys:
    """Both sides of both providers: ours (merchant/app) and theirs (WeChat platform/Alipay)."""

    merchant: rsa.RSAPrivateKey  # WeChat: our API key (apiclient_key.pem)
    platform: rsa.RSAPrivateKey  # WeChat: signs answers and notifications (微信支付公钥's private half)
    app: rsa.RSAPrivateKey  # Alipay: our app private key
    alipay: rsa.RSAPrivateKey  # Alipay: signs notifications (支付宝公钥's private half)
    stranger: rsa.RSAPrivateKey  # somebody else's key, for forged notifications

    def write(self, folder: Path) -> dict:
        """The key files as a deployment has them; Alipay's public key as bare base64, as its console gives it."""
        files = {
            "wechat_private": private_pem(self.merchant), "wechat_public": public_pem(self.platform),
            "alipay_private": private_pem(self.app),
            "alipay_public": "".join(public_pem(self.alipay).strip().splitlines()[1:-1]),
        }
        paths = {}
        for name, text in files.items():
            paths[name] = folder / f"{name}.pem"
            paths[name].write_text(text)
        return {name: str(path) for name, path in paths.items()}


def wechat_notification(resource: dict, *, key, serial: str = PUBLIC_KEY_ID, apiv3_key: str = APIV3_KEY,
                        event_type: str = "TRANSACTION.SUCCESS") -> tuple[dict, bytes]:
    """The POST WeChat Pay sends: the transaction encrypted AEAD_AES_256_GCM under the APIv3 key,
    the body signed over "timestamp\\nnonce\\nbody\\n" with the platform key."""
    nonce = secrets.token_hex(6)
    ciphertext = AESGCM(apiv3_key.encode()).encrypt(nonce.encode(), json.dumps(resource).encode(), b"transaction")
    body = json.dumps({
        "id": "EV-2018022511223320873", "create_time": "2026-05-10T08:00:01+08:00",
        "resource_type": "encrypt-resource", "event_type": event_type, "summary": "支付成功",
        "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                     "ciphertext": base64.b64encode(ciphertext).decode(), "associated_data": "transaction",
                     "nonce": nonce},
    }, ensure_ascii=False)
    timestamp, header_nonce = str(int(time.time())), secrets.token_hex(16).upper()
    headers = {
        "Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": header_nonce,
        "Wechatpay-Signature": sign(key, f"{timestamp}\n{header_nonce}\n{body}\n"),
        "Wechatpay-Serial": serial, "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
    }
    return headers, body.encode()


def wechat_transaction(order_number: str, *, total: int, transaction_id: str, trade_state: str = "SUCCESS",
                       mchid: str = MCHID, success_time: str = "2026-05-10T08:00:00+08:00") -> dict:
    """The decrypted resource of a payment notification (API v3 支付成功通知)."""
    return {
        "mchid": mchid, "appid": WECHAT_APPID, "out_trade_no": order_number, "transaction_id": transaction_id,
        "trade_type": "NATIVE", "trade_state": trade_state, "trade_state_desc": "支付成功", "bank_type": "CMC",
        "attach": "", "success_time": success_time, "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
        "amount": {"total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY"},
    }


def alipay_fields(order_number: str, *, total_amount: str, trade_no: str, trade_status: str = "TRADE_SUCCESS",
                  app_id: str = ALIPAY_APPID, gmt_payment: str = "2026-05-10 08:00:00") -> dict:
    """The fields of an Alipay 异步通知 (trade_status_sync)."""
    return {
        "gmt_create": "2026-05-10 07:59:48", "charset": "utf-8", "seller_email": "wuye@example.com",
        "subject": f"物业费 {order_number}", "buyer_id": "2088102177846880", "invoice_amount": total_amount,
        "notify_id": "2026051000222100502055831419586513", "fund_bill_list": json.dumps([{"amount": total_amount, "fundChannel": "ALIPAYACCOUNT"}], separators=(",", ":")),
        "notify_type": "trade_status_sync", "trade_status": trade_status, "receipt_amount": total_amount,
        "app_id": app_id, "buyer_pay_amount": total_amount, "sign_type": "RSA2", "seller_id": "2088102177300450",
        "gmt_payment": gmt_payment, "notify_time": "2026-05-10 08:00:01", "version": "1.0",
        "out_trade_no": order_number, "total_amount": total_amount, "trade_no": trade_no, "auth_app_id": app_id,
        "buyer_logon_id": "wxm***@example.com", "point_amount": "0.00",
    }


def alipay_notification(fields: dict, *, key) -> bytes:
    """Signed RSA2 over the sorted k=v& string of every field but sign and sign_type, form-encoded."""
    message = "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if k not in ("sign", "sign_type"))
    return urlencode({**fields, "sign": sign(key, message)}).encode()
