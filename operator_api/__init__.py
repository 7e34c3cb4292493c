"""The operator API: what the console does, as a REST API on Django REST framework (``/api/``).

Authenticated by OAuth access tokens bound to the API resource (RFC 8707) and holding the
``console:admin`` scope; every write goes through ``console.services``, like the console's pages.
"""
