"""Use cases over the working database: submit and code a record, review codes, audit, export, batch.

The service owns transactions (one commit per use case) and hands plain data (dicts, dataclasses) to the
API and the CLI; SQLAlchemy objects never leave ``medcoder.store`` and this package.
"""
