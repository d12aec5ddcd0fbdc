from rest_framework.routers import DefaultRouter

from enrollment.api.views import EnrollmentViewSet

router = DefaultRouter()
router.register("enrollments", EnrollmentViewSet, basename="enrollment")
urlpatterns = router.urls
