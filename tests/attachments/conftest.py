import pytest
from django.core.files.storage import storages



@pytest.fixture(autouse=True)
def attachment_storage(settings, tmp_path):
    """Each test's files in a directory of its own (the "attachments" storage, as configured in production)."""
    root = tmp_path / "attachments"
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    assert storages["attachments"].location == str(root)
    return root
