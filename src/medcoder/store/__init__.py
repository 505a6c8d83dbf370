"""The working database: patients, encounters, documents, coding runs, suggestions, queries and the audit log.

Only this package imports SQLAlchemy. Repository functions (``repo``) are keyword-only and never commit;
``medcoder.service`` owns each transaction.
"""
