import uuid
from datetime import timedelta

import factory
from django.utils import timezone

from apps.manual_orders.models import ManualOrder
from apps.monitoring.choices import AlarmSeverity, Condition, ProbeKind
from apps.monitoring.models import AlarmRule, DutyShift, Probe
from tests.factories import UserFactory
from tests.manual_orders.factories import CustomerFactory


class HttpProbeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Probe

    kind = ProbeKind.HTTP
    name = factory.Sequence(lambda n: f"shop front {n}")
    url = "http://127.0.0.1:9/"
    timeout_ms = 1000


class RuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AlarmRule

    name = factory.Sequence(lambda n: f"rule {n}")
    probe = factory.SubFactory(HttpProbeFactory)
    condition = Condition.FAILS
    consecutive = 3
    severity = AlarmSeverity.WARNING


class ManualOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ManualOrder

    number = factory.Sequence(lambda n: f"M-T{n}")
    idempotency_key = factory.LazyFunction(uuid.uuid4)
    customer = factory.SubFactory(CustomerFactory)
    channel = "phone"
    received_at = factory.LazyFunction(timezone.now)
    delivery_address = "人民路 1 号"
    created_by = factory.SubFactory(UserFactory)


class DutyShiftFactory(factory.django.DjangoModelFactory):
    """A shift row as stored (the service checks the person's role; this factory does not)."""

    class Meta:
        model = DutyShift

    person = factory.SubFactory(UserFactory)
    starts_at = factory.LazyFunction(timezone.now)
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=8))
    created_by = factory.SubFactory(UserFactory)
