from tests.manual_orders.factories import CustomerFactory, new_key, priced_product

__all__ = ["CustomerFactory", "new_key", "priced_product", "mail"]


def mail(
    *,
    sender: str = "王小明 <xiaoming@example.com>",
    subject: str = "我的订单什么时候到？",
    body: str = "请帮我查一下订单。",
    message_id: str | None = "<m1@example.com>",
    in_reply_to: str = "",
    charset: str = "utf-8",
    extra: str = "",
) -> bytes:
    """A raw e-mail as a customer's client would send it (headers encoded as RFC 2047)."""
    from email.header import Header

    subject = Header(subject, "utf-8").encode() if subject else ""
    if sender and "<" in sender and not sender.isascii():
        name, address = sender.split("<", 1)
        sender = f"{Header(name.strip(), 'utf-8').encode()} <{address}"
    headers = []
    if sender:
        headers.append(f"From: {sender}")
    headers.append("To: care@shop.example")
    headers.append(f"Subject: {subject}")
    if message_id:
        headers.append(f"Message-ID: {message_id}")
    if in_reply_to:
        headers.append(f"In-Reply-To: {in_reply_to}")
    headers.append("MIME-Version: 1.0")
    headers.append(f'Content-Type: text/plain; charset="{charset}"')
    headers.append("Content-Transfer-Encoding: 8bit")
    if extra:
        headers.append(extra)
    encoded = body.encode("utf-8" if charset.lower() not in ("gbk", "gb2312") else "gbk")
    return ("\r\n".join(headers) + "\r\n\r\n").encode("utf-8") + encoded + b"\r\n"
