from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("paperroute.web.urls")),
]

handler400 = "paperroute.web.views.errors.bad_request"
handler403 = "paperroute.web.views.errors.forbidden"
handler404 = "paperroute.web.views.errors.not_found"
handler500 = "paperroute.web.views.errors.server_error"
