"""The one role matrix: which project role may do what.

Every role check in the portal asks `role_can` / `capability_require` here, with
a capability named in `ROLE_MATRIX`: the services before they write, the web
pages (`projects.ui.project_page`) and the API (`projects.api.project_from_request`)
before they answer, the menus before they show an entry. `docs/roles.md` holds
the same table for people; `tests/projects/test_role_matrix.py` keeps the two
equal and walks every page and endpoint against it.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils.text import get_text_list
from django.utils.translation import gettext_lazy as _

from projects.models import ApiKey, Membership, Project
from wappin_portal.errors import NotFound, PermissionDenied

ADMIN = Membership.Role.ADMIN
MARKETING = Membership.Role.MARKETING
DEVELOPER = Membership.Role.DEVELOPER
VIEWER = Membership.Role.VIEWER

ROLES = (ADMIN, MARKETING, DEVELOPER, VIEWER)

# capability -> (the roles that hold it, what it lets them do). Keep docs/roles.md in step
# (`roles_markdown()` writes its table; the test compares).
ROLE_MATRIX: dict[str, tuple[tuple[str, ...], str]] = {
    "project.read": (
        (ADMIN, MARKETING, DEVELOPER, VIEWER),
        "Open the project's pages and lists; read through the API.",
    ),
    "marketing_pages.use": (
        (ADMIN, MARKETING, VIEWER),
        "Open the web UI's marketing pages (blasts, chat panel, the forms that change contacts "
        "or send); developers do the same work through the API.",
    ),
    "contact.edit": (
        (ADMIN, MARKETING, DEVELOPER),
        "Create, edit, delete, import contacts and groups; opt a number out or back in.",
    ),
    "message.send": ((ADMIN, MARKETING, DEVELOPER), "Send messages; refresh a message's status."),
    "blast.run": (
        (ADMIN, MARKETING, DEVELOPER),
        "Create, edit, start, pause, resume, cancel blasts.",
    ),
    "template.manage": (
        (ADMIN, MARKETING, DEVELOPER),
        "Create, edit, delete templates; ask WhatsApp to approve them; deactivate one (stop "
        "its sends).",
    ),
    "template.decide": (
        (ADMIN,),
        "Record WhatsApp's approval or rejection; reactivate a deactivated template.",
    ),
    "chatbot.manage": (
        (ADMIN, MARKETING, DEVELOPER),
        "Create, edit, delete chatbot keywords; change the chatbot settings.",
    ),
    "chat.reply": ((ADMIN, MARKETING), "Answer customers in the chat panel; hand them back."),
    "api_key.manage": ((ADMIN, DEVELOPER), "Open the API keys page; create keys; revoke own keys."),
    "api_key.revoke_any": ((ADMIN,), "Revoke any API key of the project."),
    "integration.manage": (
        (ADMIN,),
        "Edit the integrations (callback URL, allow-lists, active, speed); set new client and "
        "secret keys; see token expiry; change the project's Wappin settings.",
    ),
    "member.manage": ((ADMIN,), "Add members, change their role, remove them."),
    "project.settings": (
        (ADMIN,),
        "Change the project's settings (the answers to STOP/BERHENTI and START/MULAI).",
    ),
    "webhook.manage": (
        (ADMIN, DEVELOPER),
        "Add, edit, delete webhook endpoints; rotate their secrets; send a test event; read "
        "the delivery log and resend a delivery.",
    ),
    "audit.read": ((ADMIN,), "Read and export the project's audit log."),
}


def role_can(role: str | None, capability: str) -> bool:
    if capability not in ROLE_MATRIX:
        raise KeyError(f"No capability {capability!r} in the role matrix.")
    return role is not None and role in ROLE_MATRIX[capability][0]


def role_capabilities(role: str | None) -> frozenset[str]:
    """What a role may do: for the menus and the pages' buttons."""
    return frozenset(name for name, (roles, _what) in ROLE_MATRIX.items() if role in roles)


def capability_roles(*capabilities: str) -> tuple[str, ...]:
    """The roles that hold every one of `capabilities`, in ROLES order."""
    return tuple(role for role in ROLES if all(role_can(role, c) for c in capabilities))


def membership_role(*, user: AbstractBaseUser, project: Project) -> str | None:
    """A superuser acts as an admin of every project; others have their membership's role."""
    if user.is_superuser:
        return ADMIN
    return (
        Membership.objects.filter(user=user, project=project).values_list("role", flat=True).first()
    )


def capability_refusal(
    *, role: str, project: Project, capabilities: tuple[str, ...]
) -> PermissionDenied:
    """The one refusal of a role without a capability, for the API, the pages and the services."""
    labels = [str(Membership.Role(r).label).lower() for r in capability_roles(*capabilities)]
    allowed = get_text_list(labels, _("and"))  # "admin, marketing and developer"
    return PermissionDenied(
        _("Your role on %(project)s (%(role)s) may not do this: only %(allowed)s members may.")
        % {
            "project": project.name,
            "role": str(Membership.Role(role).label).lower(),
            "allowed": allowed or "-",
        },
        code="role_not_allowed",
    )


def capability_require(
    *,
    project: Project,
    capability: str | tuple[str, ...],
    actor: AbstractBaseUser | None = None,
    api_key: ApiKey | None = None,
) -> str | None:
    """The caller's role on `project`, or NotFound (not a member) / PermissionDenied (a role
    without the capability). An API key acts with its own role; no person and no key is the
    portal itself (a task, the sandbox, a management command), which may do anything.
    """
    capabilities = (capability,) if isinstance(capability, str) else tuple(capability)
    unknown = [name for name in capabilities if name not in ROLE_MATRIX]
    if unknown:
        raise KeyError(f"No capability {unknown[0]!r} in the role matrix.")
    if api_key is not None:
        role = api_key.role
        if api_key.project_id != project.pk:
            raise NotFound(_("No such project."), code="project_not_found")
    elif actor is not None and getattr(actor, "pk", None) is not None and actor.is_authenticated:
        role = membership_role(user=actor, project=project)
        if role is None:
            raise NotFound(_("No such project."), code="project_not_found")
    else:
        return None
    if not all(role_can(role, c) for c in capabilities):
        raise capability_refusal(role=role, project=project, capabilities=capabilities)
    return role


def roles_markdown() -> str:
    """The matrix as the Markdown table in docs/roles.md."""
    header = "| capability | " + " | ".join(ROLES) + " | what it allows |"
    rule = "|---|" + "---|" * len(ROLES) + "---|"
    rows = [
        f"| `{name}` | "
        + " | ".join("yes" if role in roles else "-" for role in ROLES)
        + f" | {what} |"
        for name, (roles, what) in ROLE_MATRIX.items()
    ]
    return "\n".join([header, rule, *rows]) + "\n"
