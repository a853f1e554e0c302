"""The web app: pages, the JSON API and their middleware."""

from .params import install_id_convertor

# Before any route is compiled: ``{id:int}`` paths take only ids a database column can hold.
install_id_convertor()
