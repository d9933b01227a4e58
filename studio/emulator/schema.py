"""The fields Google's parser knows, so an unknown one is refused the way the live API refuses it.

Google parses the JSON body into protobuf messages: a field the message does not have is a 400
``Invalid JSON payload received. Unknown name "foo" at 'generation_config': Cannot find field.``
Both spellings (camelCase and snake_case) are the same field. Only the messages the emulator
acts on are checked; deeper ones (tools' declarations, schemas, safety settings) pass as they are.
Vertex AI's request has a few more fields (``imageOutputOptions``, ``personGeneration``, ``labels``
on generateContent): the Gemini API paths refuse them as unknown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from studio.emulator import errors

# message name -> {camelCase field: message name of its value, or None for "not checked"}
GEMINI: dict[str, dict[str, str | None]] = {
    "GenerateContentRequest": {
        "model": None, "contents": "Content[]", "systemInstruction": "Content", "tools": "Tool[]", "toolConfig": None,
        "safetySettings": None, "generationConfig": "GenerationConfig", "cachedContent": None,
        "serviceTier": None, "store": None, "continuationToken": None,
    },
    "Content": {"role": None, "parts": "Part[]"},
    "Part": {
        "text": None, "inlineData": "Blob", "fileData": "FileData", "functionCall": None, "functionResponse": None,
        "executableCode": None, "codeExecutionResult": None, "thought": None, "thoughtSignature": None,
        "videoMetadata": None, "partMetadata": None, "mediaResolution": None, "toolCall": None,
        "toolResponse": None,
    },
    "Blob": {"mimeType": None, "data": None},
    "FileData": {"mimeType": None, "fileUri": None},
    "GenerationConfig": {
        "stopSequences": None, "responseMimeType": None, "responseSchema": None, "responseJsonSchema": None,
        "responseModalities": None, "candidateCount": None, "maxOutputTokens": None, "temperature": None,
        "topP": None, "topK": None, "seed": None, "presencePenalty": None, "frequencyPenalty": None,
        "responseLogprobs": None, "logprobs": None, "enableEnhancedCivicAnswers": None, "speechConfig": None,
        "thinkingConfig": "ThinkingConfig", "imageConfig": "ImageConfig", "mediaResolution": None,
        "audioTranscriptionConfig": None,
    },
    "ThinkingConfig": {"includeThoughts": None, "thinkingBudget": None, "thinkingLevel": None},
    "ImageConfig": {"aspectRatio": None, "imageSize": None},
    # Tools: only Google Search is checked deeper (its searchTypes pick web and image search)
    "Tool": {
        "functionDeclarations": None, "googleSearchRetrieval": None, "codeExecution": None,
        "googleSearch": "GoogleSearch", "urlContext": None, "fileSearch": None, "googleMaps": None,
        "computerUse": None, "mcpServers": None, "retrieval": None, "enterpriseWebSearch": None,
        "parallelAiSearch": None, "exaAiSearch": None,
    },
    "GoogleSearch": {"searchTypes": "SearchTypes", "timeRangeFilter": None},
    "SearchTypes": {"webSearch": None, "imageSearch": None},
    "CountTokensRequest": {"contents": "Content[]", "generateContentRequest": "GenerateContentRequest"},
}
# Vertex AI's generateContent knows these too (the emulator's Vertex paths, vertex.py).
VERTEX_EXTRA: dict[str, dict[str, str | None]] = {
    "GenerateContentRequest": {"labels": None, "modelArmorConfig": None},
    "Blob": {"displayName": None},
    "FileData": {"displayName": None},
    "GoogleSearch": {"excludeDomains": None, "blockingConfidence": None},
    "ImageConfig": {"personGeneration": None, "prominentPeople": None, "imageOutputOptions": "ImageOutputOptions"},
    "ImageOutputOptions": {"mimeType": None, "compressionQuality": None},
    "GenerationConfig": {"routingConfig": None, "modelSelectionConfig": None, "audioTimestamp": None},
}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def messages(vertex: bool = False) -> dict[str, dict[str, str | None]]:
    if not vertex:
        return GEMINI
    return {name: {**GEMINI.get(name, {}), **VERTEX_EXTRA.get(name, {})} for name in {**GEMINI, **VERTEX_EXTRA}}


def check(body: Mapping, message: str = "GenerateContentRequest", vertex: bool = False) -> None:
    """Raise Google's 400 for the first field no message in the body knows."""
    _check(body, message, "", messages(vertex))


def _check(value: object, message: str, path: str, known: dict[str, dict[str, str | None]]) -> None:
    if message.endswith("[]"):
        if isinstance(value, list):
            for i, item in enumerate(value):
                _check(item, message[:-2], f"{path}[{i}]", known)
        elif isinstance(value, Mapping):  # Google takes a single message where a list is expected
            _check(value, message[:-2], path, known)
        return
    if not isinstance(value, Mapping):
        return
    fields = known[message]
    for key, item in value.items():
        name = camel(str(key))
        if name not in fields:
            raise errors.unknown_field(str(key), path)
        child = fields[name]
        if child is not None and item is not None:
            _check(item, child, f"{path}.{snake(name)}" if path else snake(name), known)
