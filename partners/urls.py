"""Routes of the partners layer, one list per URL prefix (wired in diplomacy_crm/urls.py, namespace "partners").

The partner list, a partner's page and a contact's page show engagement facts:
they are the top layer's (dashboard/partner/views.py), listed beside these in
diplomacy_crm/urls.py.
"""

from django.urls import path

from . import views

# /partners/…
partners = [
    path("new/", views.partner_create, name="create"),
    path("quick/", views.partner_quick_create, name="quick-create"),
    path("lookup/", views.partner_lookup, name="lookup"),
    path("<int:pk>/edit/", views.partner_edit, name="edit"),
    path("<int:pk>/archive/", views.partner_archive, name="archive"),
]

# /contacts/…
contacts = [
    path("", views.contact_list, name="contact-list"),
    path("new/", views.contact_create, name="contact-create"),
    path("lookup/", views.contact_lookup, name="contact-lookup"),
    path("<int:pk>/edit/", views.contact_edit, name="contact-edit"),
    path("<int:pk>/delete/", views.contact_delete, name="contact-delete"),
]

# /agreements/…
agreements = [
    path("", views.agreement_list, name="agreement-list"),
    path("new/", views.agreement_create, name="agreement-create"),
    path("<int:pk>/", views.agreement_detail, name="agreement-detail"),
    path("<int:pk>/edit/", views.agreement_edit, name="agreement-edit"),
    path("<int:pk>/delete/", views.agreement_delete, name="agreement-delete"),
]
