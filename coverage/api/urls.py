from rest_framework.routers import DefaultRouter

from coverage.api.views import CoverageViewSet

router = DefaultRouter()
router.register("coverage", CoverageViewSet, basename="coverage")
urlpatterns = router.urls
