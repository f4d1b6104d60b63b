"""The aiohttp service: REST API, WebSocket, metrics, OpenAPI, platform hooks."""
