"""Structural bounds every reader honours, so a hostile file cannot make the
checker loop, recurse or allocate without limit.  Hitting one is reported as
a ``limit-exceeded`` error, never silently ignored."""

MAX_SEGMENTS = 20_000  # JPEG marker segments before the scan
MAX_CHUNKS = 200_000  # PNG / RIFF chunks
MAX_BOXES = 20_000  # ISO BMFF boxes, all levels together
MAX_BOX_DEPTH = 16
MAX_GIF_BLOCKS = 200_000
MAX_IFD_ENTRIES = 4_096
MAX_IFD_VALUES = 65_536  # numbers in one IFD entry (strip offsets of a large DNG stay below)
MAX_IRB_RESOURCES = 4_096  # resources in one Photoshop image resource block (a real one has tens)
MAX_IIM_DATASETS = 10_000  # IPTC IIM datasets in one block (keywords included; a real one has tens)
MAX_FLV_TAGS = 1_000_000  # FLV tags walked by their headers: a long video+audio file has ~75 a second (3.7 h)
MAX_AMF_DEPTH = 32  # nested AMF0 objects and arrays in an FLV script tag (onMetaData has two levels)
MAX_AMF_VALUES = 65_536  # AMF0 values in one script tag (a keyframe index of a long file has thousands)
MAX_METADATA_BLOCK = 16 * 1024 * 1024  # one XMP packet / EXIF blob / text chunk
MAX_INFLATE = 16 * 1024 * 1024  # decompressed zTXt / iTXt / compressed payloads
MAX_JSON_TEXT = 4 * 1024 * 1024  # JSON values parsed from metadata
MAX_BLOCKS = 10_000  # metadata blocks (text chunks, tags) one walker hands on
MAX_FIELDS = 20_000  # metadata fields from one file (a real file has hundreds at most)
STEALTH_MAX_PIXELS = 16_000_000  # decode pixels for stealth pnginfo only below this
DEFAULT_TIME_LIMIT = 10.0  # seconds per file for the CLI and scan (the service has --timeout)
DEFAULT_MEMORY_LIMIT_MB = 4096  # address space per checking process (virtual: the C2PA library reserves some)
MAX_MARK_FILE = 1024 * 1024 * 1024  # bytes of one file mark reads whole (it rewrites it in memory)
REMOTE_MANIFEST_TIMEOUT = 5.0  # seconds for one remote C2PA manifest (--allow-network), connection included
REMOTE_MANIFEST_MAX_BYTES = 16 * 1024 * 1024  # one remote manifest store (real ones are kilobytes)
REMOTE_CACHE_ENTRIES = 256  # remote manifests (or their failures) one checker remembers
REMOTE_CACHE_SECONDS = 600.0  # how long one is remembered (a scan reuses it; a service refetches)
REMOTE_CACHE_BYTES = 64 * 1024 * 1024  # remote manifest bytes one checker keeps at most
