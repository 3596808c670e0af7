"""Pages: the daily listing."""

from django.shortcuts import render

from paperroute.catalog.models import Paper


def home(request):
    latest = (Paper.objects.exclude(listed_on=None).order_by("-listed_on")
              .values_list("listed_on", flat=True).first())
    papers = (Paper.objects.filter(listed_on=latest).prefetch_related("authorships__author")
              .order_by("-hf_upvotes", "-published", "key")[:100] if latest else [])
    return render(request, "home.html", {"day": latest, "papers": papers})
