from rest_framework.routers import DefaultRouter

from newborns.api.views import NewbornViewSet

router = DefaultRouter()
router.register("newborns", NewbornViewSet, basename="newborn")
urlpatterns = router.urls
