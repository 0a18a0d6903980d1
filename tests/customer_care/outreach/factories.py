"""Outreach test data: cases, notices and customers made through the services."""

from __future__ import annotations

from apps.customer_care import services
from apps.customer_care.choices import CaseChannel, CaseState, CaseType
from apps.customer_care.models import Case
from apps.customer_care.services import outreach
from tests.manual_orders.factories import CustomerFactory, new_key

__all__ = ["CustomerFactory", "new_key", "open_case", "resolved_case", "notice_for"]


def open_case(by, *, customer=None, case_type=CaseType.ORDER_QUERY, **kwargs) -> Case:
    return services.open_case(
        channel=kwargs.pop("channel", CaseChannel.PHONE),
        case_type=case_type,
        subject="Where is my order?",
        customer=customer or CustomerFactory(),
        by=by,
        **kwargs,
    )


def resolved_case(by, **kwargs) -> Case:
    case = open_case(by, **kwargs)
    case = services.change_state(case=case, to=CaseState.OPEN, version=None, by=by)
    return services.change_state(case=case, to=CaseState.RESOLVED, version=None, by=by)


def notice_for(by, **kwargs):
    fields = {
        "title": "Orders delayed",
        "audience": "all",
        "subject_zh": "订单延迟",
        "subject_en": "Orders delayed",
        "body_zh": "{name}，您好：订单系统正在恢复，您的订单会延迟送达。",
        "body_en": "Dear {name}, our order system is being restored; your order will be late.",
        "by_sms": True,
        "by_email": False,
        "rate_per_second": 1000,
        "by": by,
    }
    fields.update(kwargs)
    return outreach.save_notice(**fields)


def published_status_page(by) -> None:
    """The status page a care lead has filled in: states, contacts and one public notice."""
    page = outreach.current_status_page()
    outreach.update_status_page(
        ordering="down",
        payment="normal",
        delivery="degraded",
        phone="400-800-1234",
        mailbox="care@shop.example",
        channels_zh="微博 @商城客服",
        channels_en="Weibo @shop-care",
        version=page.version,
        by=by,
    )
    outreach.publish_update(
        text_zh="订单系统正在恢复，请拨打热线下单。",
        text_en="The order system is being restored; please order by phone.",
        by=by,
    )
