"""The pages and API calls the benchmark measures, with the role that asks and the goal kind of each."""


def endpoint_list(prepared: dict) -> list[dict]:
    busiest = prepared["busiest_partner"]["id"]
    eps = [
        {"name": "B0 /healthz", "path": "/healthz", "kind": "baseline"},
        {"name": "B1 password_change", "path": "/accounts/password_change/", "role": "officer", "kind": "baseline"},
        {"name": "dashboard", "path": "/", "role": "officer", "kind": "dashboard", "explain": True},
        {"name": "partner history (busiest)", "path": "/partners/{busiest}/", "role": "officer", "kind": "detail",
         "explain": True},
        {"name": "partners ?country=JP", "path": "/partners/?country=JP", "role": "officer", "kind": "list",
         "explain": True},
        {"name": "engagements ?kind=call", "path": "/engagements/?kind=call", "role": "officer", "kind": "list",
         "explain": True},
        {"name": "commitments ?status=open", "path": "/commitments/?status=open", "role": "officer", "kind": "list",
         "explain": True},
        {"name": "contacts ?is_active=true", "path": "/contacts/?is_active=true", "role": "officer", "kind": "list",
         "explain": True},
        {"name": "missions", "path": "/missions/", "role": "officer", "kind": "list", "explain": True},
        {"name": "agreements ?status=in_force", "path": "/agreements/?status=in_force", "role": "officer",
         "kind": "list", "explain": True},
    ]
    if prepared["search"]:
        eps.append({"name": "search ?q=", "path": f"/search/?q={prepared['search_term']}", "role": "officer",
                    "kind": "list", "explain": True})
    eps += [
        {"name": "API engagements", "path": "/api/v1/engagements/", "role": "officer", "auth": "token", "kind": "list",
         "explain": True},
        {"name": "API partners", "path": "/api/v1/partners/", "role": "officer", "auth": "token", "kind": "list",
         "explain": True},
        {"name": "viewer: dashboard", "path": "/", "role": "viewer", "kind": "dashboard", "explain": True},
        {"name": "viewer: engagements ?kind=call", "path": "/engagements/?kind=call", "role": "viewer",
         "kind": "list", "explain": True},
        {"name": "viewer: partner history (busiest)", "path": "/partners/{busiest}/", "role": "viewer",
         "kind": "detail", "explain": True},
    ]
    for ep in eps:
        ep["path"] = ep["path"].replace("{busiest}", str(busiest))
    return eps
