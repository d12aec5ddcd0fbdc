"""Headers on every answer the app itself gives (WhiteNoise answers for static files before this runs)."""

from functools import wraps

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers

# Swagger UI's page (drf-spectacular) carries a small <style> block; only that page allows inline styles.
# Its scripts are files (SpectacularSwaggerSplitView), so script-src stays 'self'.
RELAXED_STYLE_POLICY = settings.CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


class SecurityHeadersMiddleware:
    """Content-Security-Policy on every answer; ``Cache-Control: no-store`` on every answer to a signed-in user.

    Pages and API answers for a signed-in user may show a whole NIK or KK, so neither the browser (back
    button, disk cache) nor a proxy may keep a copy. Checked after the view, when DRF has put the token's
    user on the request too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = "no-store, private"
        return response


def relaxed_styles(view):
    """Serve ``view`` with inline styles allowed (third-party pages we do not template)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Content-Security-Policy"] = RELAXED_STYLE_POLICY
        return response

    return wrapped


class DistrictLanguageMiddleware:
    """Indonesian unless the user chose another language with the footer's switch.

    Django's LocaleMiddleware follows the browser's Accept-Language, so a phone set to English got
    English although the district works in Indonesian. Here only the language cookie (set by
    ``set_language``) counts; anything else gets LANGUAGE_CODE. Prefixed URLs are not used.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _name in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Cookie",))
        return response
