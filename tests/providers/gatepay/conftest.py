"""GatePay fixtures: ``gp``, a started fake convert API (``tests.providers.gatepay.canned``)."""

from tests.providers.gatepay.canned import FakeGatePay
from tests.providers.harness import started

gp = started(FakeGatePay)
