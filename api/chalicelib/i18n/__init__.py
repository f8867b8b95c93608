"""Languages of the API: the message catalogue (English and Simplified Chinese), the ``Message``
text the domain raises with, and the choice of language from ``Accept-Language``.

Error codes never change with the language; only the human text does. The domain stays pure:
it raises ``Message`` values (English text carrying a catalogue key and parameters) and the HTTP
edge (``chalicelib.http``) renders them in the language the request asked for.
"""
