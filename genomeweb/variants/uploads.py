"""Upload size cap: Django does not limit uploaded file size, so this handler does."""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload

UPLOAD_TOO_LARGE = "upload_too_large"


class CappedUploadHandler(FileUploadHandler):
    """Stops reading an upload as soon as it passes ``GW_MAX_UPLOAD_MB``.

    The request is marked so the view can say why the file is missing; nothing past the cap is
    written to disk. The declared Content-Length lets most oversize uploads stop before any read.
    """

    declared_too_large = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        # Django calls this outside its StopUpload handling, so only note it here and stop at
        # the first chunk; 64 KiB leaves room for the multipart headers and the other fields.
        self.declared_too_large = content_length > settings.MAX_UPLOAD_BYTES + 64 * 1024

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if self.declared_too_large or start + len(raw_data) > settings.MAX_UPLOAD_BYTES:
            self._refuse()
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None

    def _refuse(self) -> None:
        if self.request is not None:
            setattr(self.request, UPLOAD_TOO_LARGE, True)
        raise StopUpload(connection_reset=True)
