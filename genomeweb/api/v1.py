"""The JSON API, version 1: token auth, OpenAPI schema at /api/v1/openapi.json."""

from ninja import NinjaAPI, Swagger

from genomeweb.api.auth import TokenAuth
from genomeweb.api.errors import StrictJsonParser, install_handlers
from genomeweb.api.routes import catalog, designs, interpret, jobs, variants, workspaces

DESCRIPTION = """\
Everything a member can do from the pages, for scripts: the same workspace rules (an object
outside your workspaces is 404, a role too low for a change is 403) and the same validation.

Authenticate with a personal token (create one under "API tokens" in the site's top bar):
`Authorization: Bearer gw_…`. Errors are JSON `{"detail": "..."}`; invalid input also carries
`errors`, the messages by field. Jobs run in the background: poll `GET /jobs/{code}` until
`is_final`. Result files are downloaded from the `url` of each artifact with the same token.
"""

api = NinjaAPI(
    title="genomeweb API",
    version="1",
    description=DESCRIPTION,
    auth=TokenAuth(),
    parser=StrictJsonParser(),
    urls_namespace="api-v1",
    openapi_url="/openapi.json",
    docs_url="/docs",
    # Swagger UI from the vendored copy in django-ninja's static files ("ninja" is an
    # installed app); no validator badge, which would call an outside service.
    docs=Swagger(settings={"validatorUrl": None}),
)
install_handlers(api)
for module in (catalog, workspaces, variants, designs, interpret, jobs):
    api.add_router("", module.router)
