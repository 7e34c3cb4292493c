"""Console and account pages: one module per model section (people, agents, jobs, …).

Views stay thin: they validate a form, call one function of :mod:`console.services` (or
``oauth_app.services``), and render. Every console view starts with
:class:`console.permissions.OperatorRequiredMixin`.
"""
