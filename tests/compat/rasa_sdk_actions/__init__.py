"""Actions written against rasa-sdk for the webhook differential (tests/compat/test_webhook.py).

The test suite copies this package twice: as is for rasa-sdk, and with `rasa_sdk` renamed to
`action_server` for our server. Only rasa-sdk import paths are used, on purpose.
"""
