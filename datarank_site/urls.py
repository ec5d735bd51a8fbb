from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "DataRank administration"
admin.site.site_title = "DataRank admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("datarank_site.pages.urls")),
]
