"""The attachment tests' files land in each test's own directory; the meetings they attach to."""

import pytest

from engagements.models import Engagement
from tests.factories import EngagementFactory


@pytest.fixture(autouse=True)
def _files_in_the_tests_directory(attachment_storage):
    return attachment_storage


@pytest.fixture
def no_role(django_user_model):
    return django_user_model.objects.create_user("nora_norole", password="correct horse battery staple")


@pytest.fixture
def meeting(db):
    return EngagementFactory(title="Open meeting", confidentiality=Engagement.Confidentiality.INTERNAL)


@pytest.fixture
def secret(staff_user):
    return EngagementFactory(title="Secret meeting", confidentiality=Engagement.Confidentiality.RESTRICTED, staff=[staff_user])
