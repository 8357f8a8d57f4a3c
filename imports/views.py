"""The import page (/import/): upload, map columns, check (dry run), import; and the duplicates page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import access
from accounts.roles import is_officer
from diplomacy_crm.views import render_page
from partners.models import Contact, Partner

from . import services
from .duplicates import contact_duplicates, partner_duplicates, why_alike
from .forms import MappingForm, UploadForm
from .badrows import bad_rows_file
from .importer import FIELDS, KINDS, MappingError, can_import, mapping_rows
from .merge import contact_merge, partner_merge, related_counts
from .models import ImportJob
from .reader import ImportFileError, limits, read_table, size_text

RECENT_JOBS = 10
# The preview lists this many errors; the bad-rows file has them all.
ERRORS_SHOWN = 1000


def _allowed_kinds(user) -> list[str]:
    return [kind for kind in KINDS if can_import(user, kind)]


def _require_importer(request) -> list[str]:
    kinds = _allowed_kinds(request.user)
    if not kinds:
        raise PermissionDenied("Importing is for staff and officers.")
    return kinds


def _access_job(request, pk) -> ImportJob:
    """The user's own job (officers: anyone's); 404 otherwise, so job ids leak nothing."""
    _require_importer(request)
    jobs = ImportJob.objects.defer("content")
    if not is_officer(request.user):
        jobs = jobs.filter(created_by=request.user)
    job = get_object_or_404(jobs, pk=pk)
    if not can_import(request.user, job.kind):
        raise PermissionDenied("You may not import this kind of record.")
    return job


def _require_officer(request) -> None:
    if not access.may_find_duplicates(request.user):
        raise PermissionDenied("Only officers find and merge duplicates.")


@login_required
@require_http_methods(["GET", "POST"])
def start(request):
    kinds = _require_importer(request)
    form = UploadForm(request.POST or None, request.FILES or None, allowed_kinds=kinds)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.import_job_create(
                user=request.user, kind=form.cleaned_data["kind"], filename=upload.name, data=upload.read()
            )
        except ImportFileError as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("imports:mapping", pk=job.pk)
    # Materialised here so that the template runs no query.
    jobs = list(ImportJob.objects.defer("content").filter(created_by=request.user)[:RECENT_JOBS])
    return render_page(request, "imports/start.html", {
        "form": form, "jobs": jobs, "fields": {k: FIELDS[k] for k in kinds}, "is_officer": is_officer(request.user),
        "limits": limits(), "limits_size": size_text(limits().uncompressed_bytes),
    })


@login_required
@require_http_methods(["GET", "POST"])
def mapping(request, pk):
    job = _access_job(request, pk)
    if job.is_running or job.status == ImportJob.Status.IMPORTED:
        return redirect("imports:preview", pk=job.pk)
    form = MappingForm(request.POST or None, kind=job.kind, headers=job.headers, mapping=job.mapping, defaults=job.defaults)
    if request.method == "POST" and form.is_valid():
        mapping_, defaults = form.mapping_and_defaults()
        try:
            services.import_job_set_mapping(job=job, mapping=mapping_, defaults=defaults)
            services.import_job_start(job=job, commit=False)
        except MappingError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        except ValueError as exc:  # another request started it meanwhile
            messages.info(request, str(exc))
            return redirect("imports:preview", pk=job.pk)
        else:
            return redirect("imports:preview", pk=job.pk)
    return render_page(request, "imports/mapping.html", {
        "job": job, "form": form, "columns": mapping_rows(job.kind, job.headers, job.mapping, job.defaults),
    })


@login_required
@require_GET
def preview(request, pk):
    job = _access_job(request, pk)
    checked = job.status == ImportJob.Status.CHECKED
    return render_page(request, "imports/preview.html", {
        "job": job,
        "can_commit": checked and not job.errors,
        "can_commit_good": checked and bool(job.errors) and job.good_row_count > 0,
        "stalled": services.job_is_stalled(job),
        "errors_shown": job.errors[:ERRORS_SHOWN],
        "columns": mapping_rows(job.kind, job.headers, job.mapping, job.defaults),
    })


@login_required
@require_POST
def commit(request, pk):
    """Start the import in the worker: all or nothing, or (mode=good) the good rows only. Never runs it here."""
    job = _access_job(request, pk)
    try:
        services.import_job_start(job=job, commit=True, skip_invalid=request.POST.get("mode") == "good")
    except ValueError as exc:
        messages.info(request, str(exc))
    return redirect("imports:preview", pk=job.pk)


@login_required
@require_POST
def resume(request, pk):
    job = _access_job(request, pk)
    if services.import_job_resume(job=job):
        messages.success(request, "The job was queued again; a worker will take it from the start.")
    else:
        messages.info(request, "The job is not stalled (it is running, or it has finished).")
    return redirect("imports:preview", pk=job.pk)


@login_required
@require_POST
def cancel(request, pk):
    job = _access_job(request, pk)
    if services.import_job_cancel(job=job):
        messages.success(request, "The job was cancelled: nothing was imported.")
    else:
        messages.info(request, "The job had already finished; nothing was cancelled.")
    return redirect("imports:preview", pk=job.pk)


@login_required
@require_GET
def bad_rows(request, pk):
    """The rows the check (or the import) refused, in the file's own columns and format, plus an error column."""
    job = _access_job(request, pk)
    content = ImportJob.objects.values_list("content", flat=True).get(pk=job.pk)
    try:
        table = read_table(bytes(content), job.filename)
    except ImportFileError as exc:  # the limits changed since the upload
        messages.error(request, str(exc))
        return redirect("imports:preview", pk=job.pk)
    data, filename, content_type = bad_rows_file(table, job.errors, job.filename)
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename.replace(chr(34), "")}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def status(request, pk):
    """What the progress bar polls: a few numbers, no page."""
    job = _access_job(request, pk)
    return JsonResponse({
        "status": job.status,
        "status_label": job.get_status_display(),
        "running": job.is_running,
        "stalled": services.job_is_stalled(job),
        "progress": job.progress,
        "total": job.total_rows,
        "percent": job.percent,
    }, headers={"Cache-Control": "no-store"})


@login_required
@require_GET
def duplicates(request):
    _require_officer(request)
    return render_page(request, "imports/duplicates.html", {
        "partner_pairs": partner_duplicates(), "contact_pairs": contact_duplicates(),
    })


MERGEABLE = {"partner": (Partner, partner_merge), "contact": (Contact, contact_merge)}


@login_required
@require_http_methods(["GET", "POST"])
def merge(request, kind, survivor, duplicate):
    _require_officer(request)
    if kind not in MERGEABLE:
        raise Http404("Only partners and contacts are merged.")
    model, merge_service = MERGEABLE[kind]
    keep = get_object_or_404(model, pk=survivor)
    drop = get_object_or_404(model, pk=duplicate)
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            messages.error(request, "Tick the box to confirm the merge.")
            return redirect(request.path)
        try:
            kept = merge_service(survivor=keep, duplicate=drop, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("imports:duplicates")
        messages.success(request, f"Merged #{duplicate} into “{kept}”: every link now points at it.")
        return redirect(kept.get_absolute_url())
    return render_page(request, "imports/merge_confirm.html", {
        "kind": kind, "keep": keep, "drop": drop, "moves": related_counts(drop), "why": why_alike(keep, drop),
    })
